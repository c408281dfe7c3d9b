"""The review page: one self-contained index.html for a Review, beside the audio it plays.

Safe by construction: every string of the review is escaped where it is placed (cards.py),
no string of it ever goes into the <script> or <style>, and every address in an attribute is
a relative path in the page's folder or a URL at one of the review's audio origins
(safety.py). The page's one script and one style (assets/) are inlined and allowed by hash
in a Content-Security-Policy meta tag; nothing else may run, and nothing may be loaded but
the audio beside the page and the audio at those origins (subtitles travel inside the page).

Deterministic: the same review gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import posixpath
from collections import Counter
from importlib import resources
from pathlib import Path

from voxform.errors import VoxformError
from voxform.files import write_atomic
from voxform.reading import read_regular
from voxform.review.cards import ACTIONS, duration_text, expiry_text, item_html
from voxform.review.model import Review
from voxform.review.safety import origins as checked_origins
from voxform.review.safety import relative_path

INDEX = "index.html"


def asset(name: str) -> str:
    """The text of one of the page's assets (package data, so it ships in the wheel)."""
    return resources.files("voxform.review").joinpath("assets", name).read_text("utf-8")


def source_hash(text: str) -> str:
    """A CSP hash source for an inline script or style: 'sha256-<base64 of its digest>'."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(script: str, style: str, audio_origins: tuple[str, ...]) -> str:
    """The page's policy: its own script and style by hash, media from its folder and the
    audio origins, nothing else (no images, fonts, frames, connections, forms or <base>).

    'self' for media: a page opened from disk (file://) has an opaque origin, yet Chromium
    lets its 'self' match file: URLs of the same scheme, so the audio beside it loads
    (tests/review/test_page_browser.py opens the page from disk and over http; with
    media-src without 'self', Chromium refuses that audio, so the CSP does apply there).
    Subtitles are another matter: a <track> is fetched same-origin, and Chromium gives each
    file: URL a unique origin, so a .vtt beside a page opened from disk is refused whatever
    the CSP says ("'file:' URLs are treated as unique security origins"). Their cues travel
    in the page as data: URLs instead (`subtitle_tracks`), which is what `data:` allows: media
    only, never a script, a style or a frame.
    """
    media = " ".join(("'self'", *audio_origins))
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {source_hash(script)}",
            f"style-src {source_hash(style)}",
            f"media-src {media} data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


def render_page(review: Review, out: Path) -> str:
    """The page's HTML, for the folder `out` that holds its audio and subtitles."""
    script, style = asset("page.js"), asset("page.css")
    allowed, refused = checked_origins(review.audio_origins)
    notes = list(review.notes)
    notes += [f"audio origin ignored (not scheme://host[:port]): {text}" for text in refused]
    policy = content_security_policy(script, style, allowed)
    title = f"voxform review · {review.project}"
    tracks = subtitle_tracks(review, out)
    body = "".join(item_html(n, item, allowed, tracks) for n, item in enumerate(review.items, 1))
    if not review.items:
        body = '<p class="empty">No changes: nothing to review.</p>'
    return "".join(
        (
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{_attribute(policy)}">\n',
            '<meta name="referrer" content="no-referrer">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<meta name="color-scheme" content="light dark">\n',
            f"<title>{html.escape(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n",
            _header_html(review, notes),
            _filters_html(review),
            '<noscript><p class="noscript">The players and filters need JavaScript.</p>'
            "</noscript>\n",
            f'<main id="items">\n{body}<p id="nothing" class="empty" hidden>No item matches '
            "the filters.</p>\n</main>\n",
            f"<script>{script}</script>\n</body>\n</html>\n",
        )
    )


def write_page(review: Review, out: Path) -> Path:
    """Write `out/index.html` (atomically) and return its path; the audio and subtitles the
    review names are expected in `out` already."""
    path = out / INDEX
    write_atomic(path, render_page(review, out).encode("utf-8", "replace"), durable=False)
    return path


def subtitle_tracks(review: Review, out: Path) -> dict[str, str]:
    """For each subtitles file the review names that is a WebVTT file of at most 1 MB in
    `out` (no link followed on the last step, none out of `out` on the way), the data: URL
    of its bytes."""
    tracks: dict[str, str] = {}
    inside = out.resolve()
    names = {
        take.subtitles
        for item in review.items
        for take in (item.now, item.after)
        if take is not None and take.subtitles is not None
    }
    folders: dict[str, bool] = {}  # whether a folder of `out` resolves inside it
    for name in sorted(names):
        if relative_path(name) is None:
            continue
        # The folder resolved once for all its files: the file itself is read without
        # following a link (read_regular), so nothing it reads leads out of `out`.
        folder = posixpath.dirname(name)
        if folder not in folders:
            folders[folder] = (out / folder).resolve().is_relative_to(inside)
        if not folders[folder]:
            continue
        try:
            data = read_regular(out / name, _SUBTITLES_LIMIT, "subtitles", follow=False)
        except (OSError, VoxformError):
            continue
        if not data.startswith((b"WEBVTT", "\ufeffWEBVTT".encode())):
            continue
        encoded = base64.b64encode(data).decode("ascii")
        tracks[name] = f"data:text/vtt;charset=utf-8;base64,{encoded}"
    return tracks


_SUBTITLES_LIMIT = 1 << 20


def _header_html(review: Review, notes: list[str]) -> str:
    summary = review.summary()
    billed = int(summary.get("billed_characters", 0))
    seconds = sum(i.after.duration for i in review.items if i.after is not None)
    counts = [
        f'<li class="a-{action if action in ACTIONS else "other"}">'
        f"<b>{int(summary[action]):,}</b> {html.escape(action)}</li>"
        for action in (*ACTIONS, *sorted(set(summary) - set(ACTIONS) - _TOTALS))
        if action in summary
    ]
    expiries = sorted(
        take.expires
        for item in review.items
        for take in (item.now, item.after)
        if take is not None and take.expires is not None
    )
    notes_html = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    if expiries:  # the script marks it when the page is opened after that
        notes_html += (
            f'<li class="expiry" data-expires="{html.escape(expiries[0])}">presigned audio '
            f"links expire from {html.escape(expiry_text(expiries[0]))}</li>"
        )
    return "".join(
        (
            '<header class="top">\n',
            f'<h1>Review <span class="project">{html.escape(review.project)}</span></h1>\n',
            f'<p class="base">changes against {html.escape(review.base)}</p>\n',
            '<dl class="summary">',
            f"<div><dt>items</dt><dd>{len(review.items):,}</dd></div>",
            f"<div><dt>billed characters</dt><dd>{billed:,}</dd></div>",
            f"<div><dt>audio after</dt><dd>{_length_text(seconds)}</dd></div>",
            "</dl>\n",
            f'<ul class="counts">{"".join(counts)}</ul>\n',
            f'<ul class="notes">{notes_html}</ul>\n' if notes_html else "",
            "</header>\n",
        )
    )


_TOTALS = {"items", "billed_characters", "minutes"}


def _length_text(seconds: float) -> str:
    """`1 h 5 min`, `12.5 min` or `0:42.0`: the length of the audio after the change."""
    if not math.isfinite(seconds):
        return "?"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {round(seconds % 3600 / 60)} min"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return duration_text(seconds)


def _filters_html(review: Review) -> str:
    actions = Counter(item.action for item in review.items)
    sources = Counter(item.source or "" for item in review.items)
    chips = "".join(
        f'<label class="chip a-{action if action in ACTIONS else "other"}">'
        f'<input type="checkbox" name="action" value="{html.escape(action)}" checked>'
        f'{html.escape(action)} <span class="n">{count:,}</span></label>'
        for action, count in sorted(actions.items(), key=lambda pair: _action_order(pair[0]))
    )
    options = "".join(
        f'<option value="{html.escape(source)}">'
        f"{html.escape(source or '(source not known)')} ({count:,})</option>"
        for source, count in sorted(sources.items())
    )
    total = len(review.items)
    return "".join(
        (
            '<nav class="bar" aria-label="filters">\n',
            f'<fieldset class="actions"><legend>actions</legend>{chips}</fieldset>\n',
            '<label class="file">file <select id="source">',
            f'<option value="*">all files ({len(sources):,})</option>{options}</select></label>\n',
            f'<p class="shown" aria-live="polite"><span id="shown">{total:,}</span> of '
            f"{total:,} shown</p>\n",
            '<p class="keys"><kbd>j</kbd>/<kbd>k</kbd> next/previous · <kbd>space</kbd> '
            "play/pause · <kbd>1</kbd> now · <kbd>2</kbd> after · <kbd>←</kbd>/<kbd>→</kbd>"
            " 5 s</p>\n",
            "</nav>\n",
        )
    )


def _action_order(action: str) -> tuple[int, str]:
    return (ACTIONS.index(action) if action in ACTIONS else len(ACTIONS), action)


def _attribute(text: str) -> str:
    """Escaped for a double-quoted attribute, leaving the CSP's single quotes readable."""
    return html.escape(text, quote=False).replace('"', "&quot;")
