"""One changed item of a review as an <article>: its id, action and reasons, the word diff of
its spoken text and SSML, and its two takes (players with a level strip and subtitles).

Every string from the review is escaped here (`_e`), and every address goes through
`safety.media_address` first; element ids are the item's position, never its id.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from itertools import pairwise

from voxform.review.diff import diff_html
from voxform.review.model import ReviewItem, Take
from voxform.review.safety import media_address

ACTIONS = ("create", "update", "copy", "retry", "resume", "delete")
_STRIP_HEIGHT = 20


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def duration_text(seconds: float) -> str:
    """`1:05.3` for 65.3 seconds."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    tenths = round(seconds * 10)
    return f"{tenths // 600}:{tenths % 600 / 10:04.1f}"


def expiry_text(expires: str) -> str:
    """An ISO 8601 expiry as `2026-12-07 17:00 UTC` (as given if it does not parse)."""
    try:
        moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    except ValueError:
        return expires
    offset = moment.utcoffset()
    if offset is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    if not offset:
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat(timespec="minutes")


def strip_svg(peaks: tuple[float, ...]) -> str:
    """A level strip: one bar per peak, mirrored around the middle, in whole units of a
    64 x 20 box, each bar a relative move and line (64 bars are about 450 bytes). The bar's
    height is the square root of the peak: speech peaking at -12 dB still fills half."""
    if not peaks:
        return ""
    halves = [_half_bar(peak) for peak in peaks]
    # From the bottom of one bar (middle + its half) to the top of the next (middle - its
    # half), always upwards: each bar's text depends on the two halves only.
    path = [f"M.5 {_STRIP_HEIGHT // 2 - halves[0]}v{2 * halves[0]}"]
    path += [_BARS[before][half] for before, half in pairwise(halves)]
    return (
        f'<svg class="bars" viewBox="0 0 {len(peaks)} {_STRIP_HEIGHT}" '
        f'preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        f'<path d="{"".join(path)}"/></svg>'
    )


@lru_cache(maxsize=1024)
def _half_bar(peak: float) -> int:
    """Half a bar's height in units (1 .. middle - 1) for a peak level 0..1."""
    middle = _STRIP_HEIGHT // 2
    level = math.sqrt(min(max(peak, 0.0), 1.0)) if math.isfinite(peak) else 0.0
    return max(1, round(level * (middle - 1)))


# _BARS[before][half]: the path of a bar of `half` after one of `before` (a move up, a line)
_BARS = [
    [f"m1{-(before + half)}v{2 * half}" for half in range(_STRIP_HEIGHT // 2)]
    for before in range(_STRIP_HEIGHT // 2)
]


def item_html(
    index: int, item: ReviewItem, origins: tuple[str, ...], tracks: Mapping[str, str]
) -> str:
    """The <article> of one item (`index` from 1); `tracks` maps a take's subtitles file to
    the data: URL of its cues (absent: the file could not be read)."""
    action = item.action if item.action in ACTIONS else "other"
    meta = [f"{item.characters:,} characters", "billed" if item.billed else "not billed"]
    parts = [
        f'<article class="item" id="i{index}" tabindex="-1" data-action="{_e(item.action)}"'
        f' data-source="{_e(item.source or "")}" aria-labelledby="i{index}h">',
        '<header class="head">',
        f'<span class="action a-{action}">{_e(item.action)}</span>',
        f'<h2 id="i{index}h" class="id"><code>{_e(item.id)}</code></h2>',
        f'<span class="meta">{" · ".join(meta)}</span>',
        "</header>",
        '<p class="where">',
        f'<span class="source">{_e(item.source)}</span>' if item.source else "",
        f'<span class="reasons">{_e(", ".join(item.reasons))}</span>' if item.reasons else "",
        "</p>",
    ]
    if item.copied_from is not None:
        parts.append(f'<p class="copied">audio copied from <code>{_e(item.copied_from)}</code></p>')
    parts.append(_text_html(item))
    parts.append(_ssml_html(item))
    parts.append('<div class="takes">')
    parts.append(_take_html(index, "now", item.now, origins, tracks, _missing_now(item)))
    delta = ""
    if item.now is not None and item.after is not None:
        delta = _change_of_length(item.now.duration, item.after.duration)
    parts.append(
        _take_html(index, "after", item.after, origins, tracks, _missing_after(item), delta)
    )
    parts.append("</div></article>\n")
    return "".join(parts)


def _change_of_length(now: float, after: float) -> str:
    """How much longer or shorter the item gets (a swallowed word, a longer pause)."""
    change = after - now
    if not math.isfinite(change) or abs(change) < 0.05:
        return ""
    sign = "+" if change > 0 else "−"
    return (
        f'<span class="delta" title="how much longer or shorter than now">'
        f"{sign}{abs(change):.1f} s</span>"
    )


def _text_html(item: ReviewItem) -> str:
    old, new = item.old_text, item.new_text
    if old is not None and new is not None:
        if old == new:
            return f'<p class="label">spoken text, unchanged</p><p class="text">{_e(new)}</p>'
        return f'<p class="label">spoken text</p><p class="text">{diff_html(old, new)}</p>'
    if new is not None:
        label = "new text" if item.action == "create" else "previous text not known; text now"
        return f'<p class="label">{label}</p><p class="text">{_e(new)}</p>'
    if old is not None:
        return f'<p class="label">text that goes away</p><p class="text"><del>{_e(old)}</del></p>'
    return '<p class="label">text not known</p>'


def _ssml_html(item: ReviewItem) -> str:
    old, new = item.old_ssml, item.new_ssml
    if old is not None and new is not None:
        state = "unchanged" if old == new else "changed"
        body = _e(new) if old == new else diff_html(old, new, markup=True)
    elif new is not None:
        state, body = "new" if item.action == "create" else "previous not known", _e(new)
    elif old is not None:
        state, body = "goes away", f"<del>{_e(old)}</del>"
    else:
        return ""
    return (
        f'<details class="ssml"><summary>SSML <span class="state">{state}</span></summary>'
        f"<pre>{body}</pre></details>"
    )


def _missing_now(item: ReviewItem) -> str:
    return "nothing recorded yet" if item.action == "create" else "no recording to play"


def _missing_after(item: ReviewItem) -> str:
    return "goes away: nothing after the change" if item.action == "delete" else "no preview"


def _take_html(
    index: int,
    which: str,
    take: Take | None,
    origins: tuple[str, ...],
    tracks: Mapping[str, str],
    missing: str,
    delta: str = "",
) -> str:
    title = "Now" if which == "now" else "After"
    if take is None:
        return (
            f'<section class="take {which} none"><h3>{title}</h3>'
            f'<p class="missing">{missing}</p></section>'
        )
    preview = take.kind == "preview"
    kind = (
        '<span class="badge preview">preview<span class="long"> · local engine</span></span>'
        if preview
        else '<span class="badge recorded">recorded</span>'
    )
    notes: list[str] = []
    src = media_address(take.src, origins)
    if src is None:
        notes.append(
            "audio not shown: its address is neither in this page's folder nor at an "
            "allowed audio origin"
        )
    track = tracks.get(take.subtitles) if take.subtitles is not None else None
    if take.subtitles is not None and track is None:
        notes.append(
            "subtitles not shown: their file is not a readable WebVTT file in this page's folder"
        )
    if take.note:
        notes.append(take.note)
    duration = duration_text(take.duration)
    playable = f' data-src="{_e(src)}"' if src is not None else ""
    if src is not None and track is not None:
        playable += f' data-track="{_e(track)}"'
    seconds = f"{take.duration:.3f}" if math.isfinite(take.duration) else ""
    parts = [
        f'<section class="take {which}{" is-preview" if preview else ""}" data-take="{which}"'
        f' data-duration="{seconds}"{playable} aria-labelledby="i{index}{which}">',
        f'<h3 id="i{index}{which}">{title} {kind}<span class="dur">{duration}</span>{delta}</h3>',
    ]
    if src is not None:
        # No <audio> until it is played: four thousand media elements (with their controls)
        # cost seconds at load; the script makes one, with its <track>, on the first play.
        parts += [
            '<div class="player">',
            f'<button type="button" class="play" aria-pressed="false" aria-label="play '
            f'{which}: {_e(take.kind)}, {duration}"></button>',
            f'<div class="strip">{strip_svg(take.peaks)}<span class="played"></span></div>',
            "</div>",
            '<p class="cue" hidden></p>' if track is not None else "",
        ]
    if take.expires is not None:
        parts.append(f'<p class="expires">link expires {_e(expiry_text(take.expires))}</p>')
    parts += [f'<p class="note">{_e(note)}</p>' for note in notes]
    parts.append("</section>")
    return "".join(parts)
