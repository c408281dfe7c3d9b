"""The review page in headless Chromium: opened from disk and over http, as a reviewer would.

One browser for the session (conftest.py); each test opens its own page and records what
the page asked for and what it said in the console.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from review.pages import CUES, LOAD_ALL, item, make_take, quickstart_review
from voxform.review.model import Review
from voxform.review.page import write_page

VISIBLE = """() => Array.from(document.querySelectorAll("article.item:not([hidden]) h2"),
  (heading) => heading.textContent)"""


def test_a_page_opened_from_disk_plays_every_take_for_as_long_as_it_says(
    visit: Any, tmp_path: Path
) -> None:
    index = write_page(quickstart_review(tmp_path), tmp_path)
    seen = visit(index.as_uri())
    players = seen.page.evaluate(LOAD_ALL)
    assert len(players) == 6
    for player in players:
        assert player["found"] is not None, f"{player['src']} did not load"
        assert abs(player["found"] - player["stated"]) < 0.1, player
    # subtitles load too (each take has two cues)
    seen.page.wait_for_function(f"() => ({CUES})().join() === '2,2,2,2,2,2'")
    folder = tmp_path.as_uri() + "/"
    assert [url for url in seen.requests if not url.startswith(folder)] == []
    assert seen.errors() == []


def test_presigned_audio_loads_only_from_the_allowed_origin(
    visit: Any, tmp_path: Path, serve: Any
) -> None:
    page_folder, bucket, other = tmp_path / "page", tmp_path / "bucket", tmp_path / "other"
    recorded = make_take(bucket, "recorded", 1.5)
    make_take(other, "recorded", 1.5)  # the same bytes at an origin the page does not allow
    bucket_origin, other_origin = serve(bucket), serve(other)
    query = "?Expires=1767225600&OSSAccessKeyId=AK&Signature=a%2Bb%3D"
    presigned = dataclasses.replace(
        recorded,
        src=f"{bucket_origin}/{recorded.src}{query}",
        subtitles=None,
        expires="2026-12-07T17:00:00Z",
    )
    elsewhere = dataclasses.replace(
        presigned, src=f"{other_origin}/{recorded.src}{query}", expires="2001-01-01T00:00:00Z"
    )
    review = Review(
        project="ice",
        base="voxform.lock",
        items=(
            item(
                "a",
                "update",
                old="one",
                new="two",
                now=presigned,
                after=make_take(page_folder, "preview", 1.2),
            ),
            item("b", "update", old="one", new="three", now=elsewhere),
        ),
        audio_origins=(bucket_origin,),
    )
    write_page(review, page_folder)
    page_origin = serve(page_folder)
    seen = visit(f"{page_origin}/index.html")
    players = seen.page.evaluate(LOAD_ALL)
    assert [p["src"] for p in players] == [
        presigned.src,  # the signature's %2B and & come through the attribute intact
        f"{page_origin}/{review.items[0].after.src}",  # type: ignore[union-attr]
    ]
    assert all(abs(p["found"] - p["stated"]) < 0.1 for p in players), players
    assert seen.page.locator("#i2 .note").inner_text().startswith("audio not shown")
    assert seen.page.locator("#i1 .expires").inner_text() == "link expires 2026-12-07 17:00 UTC"
    assert seen.page.locator(".notes .expired").inner_text() == (
        "presigned audio links expire from 2001-01-01 00:00 UTC: expired, run voxform review"
        " again for new links"
    )
    assert {re.sub(r"^(https?://[^/]+).*", r"\1", url) for url in seen.requests} == {
        page_origin,
        bucket_origin,
    }
    assert seen.errors() == []


def test_filters_and_keys_find_and_play_items(visit: Any, tmp_path: Path) -> None:
    index = write_page(quickstart_review(tmp_path), tmp_path)
    seen = visit(index.as_uri())
    page = seen.page
    assert page.evaluate(VISIBLE) == ["intro/1", "intro/2", "outro/1", "outro/2"]
    page.get_by_label("update").uncheck()
    assert page.evaluate(VISIBLE) == ["outro/1", "outro/2"]
    assert page.locator("#shown").inner_text() == "2"
    page.get_by_label("delete").uncheck()
    page.get_by_label("create").uncheck()
    assert page.evaluate(VISIBLE) == []
    assert page.locator("#nothing").is_visible()
    page.get_by_label("delete").check()
    page.get_by_label("create").check()
    page.get_by_label("update").check()
    assert not page.locator("#nothing").is_visible()
    page.select_option("#source", "docs/intro.md")
    assert page.evaluate(VISIBLE) == ["intro/1", "intro/2"]
    page.select_option("#source", "*")

    page.locator("body").press("j")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.id") == "i2"
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.id") == "i1"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "i2"
    page.keyboard.press("2")  # the preview of the focused item plays
    page.wait_for_function("() => document.querySelector('#i2 .after audio')?.paused === false")
    page.keyboard.press("1")  # the recording instead: one player at a time
    page.wait_for_function(
        "() => document.querySelector('#i2 .now audio')?.paused === false"
        " && document.querySelector('#i2 .after audio').paused"
    )
    page.keyboard.press(" ")
    page.wait_for_function("() => document.querySelector('#i2 .now audio').paused")
    assert seen.errors() == []


INJECTED_TEXT = "</script><script>document.title='pwned'</script><img src=x onerror=alert(1)>"
INJECTED_ID = 'x" onmouseover="alert(1)" data-a=\'b\''
INJECTED_SSML = '<speak><audio src="javascript:alert(1)"/>hi</speak>'


def test_injected_strings_show_as_text(visit: Any, tmp_path: Path) -> None:
    after = make_take(tmp_path, "preview", 1.0)
    review = Review(
        project="<b>p</b>",
        base="</title><script>alert(1)</script>",
        items=(
            item(
                INJECTED_ID,
                "create",
                source="a\"b'<c>.md",
                new=INJECTED_TEXT,
                new_ssml=INJECTED_SSML,
                after=after,
            ),
        ),
        notes=("<script>alert(2)</script>",),
    )
    index = write_page(review, tmp_path)
    seen = visit(index.as_uri())
    page = seen.page
    assert page.title() == "voxform review · <b>p</b>"
    assert page.locator("#i1 h2").inner_text() == INJECTED_ID
    assert page.locator("#i1 .text").inner_text() == INJECTED_TEXT
    assert page.locator("#i1 .source").inner_text() == "a\"b'<c>.md"
    assert page.locator("#i1 .ssml pre").text_content() == INJECTED_SSML
    assert page.evaluate("document.scripts.length") == 1
    assert page.evaluate("document.querySelectorAll('img, [onmouseover], [onerror]').length") == 0
    page.select_option("#source", "a\"b'<c>.md")  # the filter matches the quoted name
    assert page.evaluate(VISIBLE) == [INJECTED_ID]
    assert seen.errors() == []


def test_the_policy_blocks_a_script_that_got_into_the_page(visit: Any, tmp_path: Path) -> None:
    index = write_page(quickstart_review(tmp_path), tmp_path)
    html = index.read_text("utf-8")
    injected = "<script>window.injected = true</script><main id=x>"
    (tmp_path / "tampered.html").write_text(html.replace("<main id=", injected + "<main id=", 1))
    seen = visit((tmp_path / "tampered.html").as_uri())
    assert seen.page.evaluate("window.injected") is None  # blocked, while the page's own ran
    assert any("Content Security Policy" in line for line in seen.errors()), seen.console


def test_two_thousand_items_load_within_two_seconds(visit: Any, tmp_path: Path) -> None:
    takes = [
        make_take(tmp_path, kind, 2.0 + n / 10, pitch=300 + 50 * n)
        for n, kind in enumerate(("recorded", "preview", "recorded", "preview"))
    ]
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "the",
        "lazy",
        "dog",
        "near",
        "the",
        "river",
        "bank",
    ]
    items = tuple(
        item(
            f"chapter-{n // 100:02d}/p{n % 100:03d}",
            "update",
            source=f"docs/chapter-{n // 100:02d}.md",
            old=" ".join(words * 4),
            new=" ".join(words[: n % 12] + ["swift"] + words[n % 12 + 1 :] + words * 3),
            now=takes[n % 2 * 2],
            after=takes[n % 2 * 2 + 1],
        )
        for n in range(2000)
    )
    index = write_page(Review(project="big", base="voxform.lock", items=items), tmp_path)
    seen = visit(index.as_uri())
    timing = seen.page.evaluate(
        "(() => { const n = performance.getEntriesByType('navigation')[0];"
        " const [paint] = performance.getEntriesByName('first-contentful-paint');"
        " return {load: n.loadEventEnd, paint: paint && paint.startTime}; })()"
    )
    assert timing["load"] < 2000, timing
    assert seen.errors() == []
