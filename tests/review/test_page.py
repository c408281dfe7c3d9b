"""The review page's HTML: escaped everywhere, its policy matching its own script and style,
only safe addresses in its attributes, the same bytes for the same review."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from review.pages import item, make_take, quickstart_review
from voxform.review.cards import duration_text, expiry_text, strip_svg
from voxform.review.model import Review
from voxform.review.page import render_page, write_page
from voxform.review.safety import media_address, origin

EVIL = "</script><script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;"
TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "span", "p", "dl", "div",
    "dt", "dd", "ul", "li", "b", "nav", "fieldset", "legend", "label", "input", "select",
    "option", "kbd", "noscript", "main", "article", "h2", "code", "details", "summary", "pre",
    "del", "ins", "section", "h3", "button", "svg", "path", "script",
}  # fmt: skip


class Parsed(HTMLParser):
    """The page as the browser's parser sees it: tags with attributes, text, raw blocks."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.raw:
            self._open = tag
            self.raw[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.raw[self._open][-1] += data
        else:
            self.text.append(data)

    def policy(self) -> dict[str, list[str]]:
        content = next(a["content"] for t, a in self.tags if a.get("http-equiv"))
        assert content is not None
        return {d.split()[0]: d.split()[1:] for d in content.split("; ")}


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_the_policy_allows_the_page_s_own_script_and_style_and_nothing_else(
    tmp_path: Path,
) -> None:
    page = Parsed(render_page(quickstart_review(tmp_path), tmp_path))
    [script], [style] = page.raw["script"], page.raw["style"]
    assert page.policy() == {
        "default-src": ["'none'"],
        "script-src": [sha256_source(script)],
        "style-src": [sha256_source(style)],
        "media-src": ["'self'", "data:"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }
    assert [t for t, _ in page.tags].index("meta") < [t for t, _ in page.tags].index("style")
    assert not [a for _, attrs in page.tags for a in attrs if a == "style" or a.startswith("on")]


def test_every_string_of_the_review_is_text_on_the_page(tmp_path: Path) -> None:
    take = dataclasses.replace(
        make_take(tmp_path, "recorded", 1.0),
        note=EVIL,
        expires=EVIL,
        kind=EVIL,  # type: ignore[arg-type]
    )
    review = Review(
        project=EVIL,
        base=EVIL,
        items=(
            item(
                EVIL,
                EVIL,
                source=EVIL,
                old=EVIL,
                new=EVIL + "!",
                now=take,
                after=take,
                reasons=(EVIL,),
                copied_from=EVIL,
                old_ssml=EVIL,
                new_ssml=EVIL + "?",
            ),
            item("gone", "delete", old=EVIL, now=take),
        ),
        notes=(EVIL,),
        audio_origins=(EVIL,),
    )
    html = render_page(review, tmp_path)
    page = Parsed(html)
    assert {t for t, _ in page.tags} <= TAGS
    assert [t for t, _ in page.tags].count("script") == 1
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    text = "".join(page.text)
    assert text.count(EVIL) >= 12  # project, base, notes, id, action, reasons, source, ...
    assert "alert" not in page.raw["script"][0]


@pytest.mark.parametrize(
    ("address", "shown"),
    [
        ("audio/3f9c0a.mp3", "audio/3f9c0a.mp3"),
        ("audio/ä.mp3", "audio/%C3%A4.mp3"),
        ("https://bucket.example.com/a.mp3?Expires=1&Signature=a%2B", None),  # kept as given
        ("HTTPS://Bucket.Example.com:443/a.mp3", None),
        ("../secret.mp3", "refused"),
        ("audio/../../x.mp3", "refused"),
        ("/etc/passwd", "refused"),
        ("//evil.example/a.mp3", "refused"),
        ("audio\\a.mp3", "refused"),
        ("javascript:alert(1)", "refused"),
        ("JaVaScRiPt:alert(1)", "refused"),
        (" javascript:alert(1)", "refused"),
        ("data:audio/mpeg;base64,AAAA", "refused"),
        ("https://evil.example/a.mp3", "refused"),
        ("http://bucket.example.com/a.mp3", "refused"),  # another scheme, another origin
        ("https://bucket.example.com:8443/a.mp3", "refused"),
        ("https://user:pw@bucket.example.com/a.mp3", "refused"),
        ("https://bucket.example.com\t/a.mp3", "refused"),
        ("audio/a.mp3#t=1", "refused"),
        ("", "refused"),
    ],
)
def test_only_the_page_s_folder_and_its_audio_origins_are_addresses(
    address: str, shown: str | None
) -> None:
    found = media_address(address, ("https://bucket.example.com",))
    assert found == (None if shown == "refused" else shown or address)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("https://bucket.oss-cn-shanghai.aliyuncs.com", "https://bucket.oss-cn-shanghai.aliyuncs.com"),
        ("HTTP://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("https://b.example:443", "https://b.example"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://b.example; script-src *", None),
        ("https://b.example 'unsafe-inline'", None),
        ("https://*.example", None),
        ("ftp://b.example", None),
        ("https://b.example/path", None),
        ("https://b.example:99999", None),
    ],
)  # fmt: skip
def test_an_audio_origin_is_a_scheme_a_host_and_a_port(text: str, canonical: str | None) -> None:
    assert origin(text) == canonical


def test_an_origin_that_is_not_one_is_dropped_from_the_policy_with_a_note(tmp_path: Path) -> None:
    review = dataclasses.replace(
        quickstart_review(tmp_path),
        audio_origins=("https://b.example; script-src 'unsafe-inline'", "https://B.example"),
    )
    page = Parsed(render_page(review, tmp_path))
    assert page.policy()["media-src"] == ["'self'", "https://b.example", "data:"]
    assert "audio origin ignored (not scheme://host[:port]): https://b.example; script-src" in (
        "".join(page.text)
    )


def test_a_take_whose_address_is_refused_has_no_player_and_says_why(tmp_path: Path) -> None:
    take = dataclasses.replace(make_take(tmp_path, "recorded", 1.0), src="javascript:alert(1)")
    html = render_page(
        Review("p", "voxform.lock", (item("a", "delete", old="x", now=take),)), tmp_path
    )
    assert "javascript:" not in html
    assert 'class="play"' not in html
    assert "audio not shown: its address is neither in this page&#x27;s folder" in html


def test_subtitles_travel_in_the_page_when_they_are_a_webvtt_file_beside_it(
    tmp_path: Path,
) -> None:
    good = make_take(tmp_path, "preview", 1.0)
    assert good.subtitles is not None
    vtt = (tmp_path / good.subtitles).read_bytes()
    (tmp_path / "audio" / "not.vtt").write_text("<script>alert(1)</script>")
    (tmp_path / "audio" / "link.vtt").symlink_to(tmp_path / good.subtitles)
    (tmp_path / "away").symlink_to(tmp_path.parent)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.vtt"
    outside.write_bytes(vtt)
    takes = [
        good,
        dataclasses.replace(good, subtitles="audio/missing.vtt"),
        dataclasses.replace(good, subtitles="audio/not.vtt"),
        dataclasses.replace(good, subtitles="audio/link.vtt"),
        dataclasses.replace(good, subtitles=f"../{outside.name}"),
        dataclasses.replace(good, subtitles=f"away/{outside.name}"),
    ]
    items = tuple(item(f"i{n}", "create", new="x", after=t) for n, t in enumerate(takes))
    html = render_page(Review("p", "voxform.lock", items), tmp_path)
    tracks = re.findall(r'data-track="([^"]*)"', html)
    assert tracks == ["data:text/vtt;charset=utf-8;base64," + base64.b64encode(vtt).decode()]
    assert html.count("subtitles not shown") == 5


def test_the_same_review_gives_the_same_bytes(tmp_path: Path) -> None:
    review = quickstart_review(tmp_path)
    index = write_page(review, tmp_path / "out")
    first = index.read_bytes()
    assert write_page(review, tmp_path / "out") == index
    assert index.read_bytes() == first == render_page(review, tmp_path / "out").encode()
    assert sorted(os.listdir(tmp_path / "out")) == ["index.html"]  # no temporary left


def test_the_summary_counts_items_billed_characters_and_audio(tmp_path: Path) -> None:
    review = quickstart_review(tmp_path)
    seconds = sum(i.after.duration for i in review.items if i.after is not None)
    assert 5 < seconds < 6
    summary = re.search(r'<dl class="summary">(.*?)</dl>', render_page(review, tmp_path))
    assert summary is not None
    assert re.sub(r"<[^>]+>", " ", summary.group(1)).split() == [
        "items", "4", "billed", "characters", "81", "audio", "after", duration_text(seconds),
    ]  # fmt: skip
    counts = re.search(r'<ul class="counts">(.*?)</ul>', render_page(review, tmp_path))
    assert counts is not None
    assert re.sub(r"<[^>]+>", " ", counts.group(1)).split() == [
        "1", "create", "2", "update", "1", "delete",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("peaks", "bars"),
    [((), 0), ((0.0, 1.0, 0.25), 3), ((float("nan"), -3.0, 7.0), 3)],
)
def test_a_level_strip_has_one_bar_per_peak_inside_its_box(
    peaks: tuple[float, ...], bars: int
) -> None:
    heights = [int(h) for h in re.findall(r"v(\d+)", strip_svg(peaks))]
    assert len(heights) == bars
    assert all(2 <= h <= 18 for h in heights)
    if peaks == (0.0, 1.0, 0.25):
        assert heights == [2, 18, 8]  # silence a dot, full scale the box, -12 dB about half


def test_takes_say_what_they_are(tmp_path: Path) -> None:
    preview_now = dataclasses.replace(
        make_take(tmp_path, "preview", 1.0), note="recorded file changed since the apply"
    )
    review = Review(
        "p",
        "voxform.lock",
        (
            item(
                "a",
                "update",
                old="one",
                new="two",
                now=preview_now,
                after=make_take(tmp_path, "preview", 1.1),
            ),
            item("b", "update", old=None, new="three"),
            item("c", "copy", new="four", copied_from="a"),
        ),
    )
    text = " ".join(" ".join(Parsed(render_page(review, tmp_path)).text).split())
    assert text.count("preview · local engine") == 2
    assert "recorded file changed since the apply" in text
    assert "previous text not known; text now" in text
    assert "audio copied from a" in text
    assert "no preview" in text


@pytest.mark.parametrize(
    ("expires", "shown"),
    [
        ("2026-12-07T17:00:00Z", "2026-12-07 17:00 UTC"),
        ("2026-12-07T17:00:00+00:00", "2026-12-07 17:00 UTC"),
        ("2026-12-07T17:00:00+08:00", "2026-12-07T17:00+08:00"),
        ("not a time", "not a time"),
    ],
)
def test_an_expiry_reads_as_a_time(expires: str, shown: str) -> None:
    assert expiry_text(expires) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.0, "0:00.0"), (5.34, "0:05.3"), (59.96, "1:00.0"), (3725.0, "62:05.0"),
     (float("nan"), "?"), (-1.0, "?")],
)  # fmt: skip
def test_a_duration_reads_as_minutes_and_seconds(seconds: float, shown: str) -> None:
    assert duration_text(seconds) == shown


def test_a_review_without_changes_says_so(tmp_path: Path) -> None:
    page = Parsed(render_page(Review("p", "voxform.lock", ()), tmp_path))
    text = " ".join(" ".join(page.text).split())
    assert "No changes: nothing to review." in text
    assert "0 of 0 shown" in text
    assert not [a for t, a in page.tags if t == "article"]
