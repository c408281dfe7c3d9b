"""Subtitle files from sentence timings: exact WebVTT and SRT, always inside the project."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.apply.subtitles import to_srt, to_vtt, write_subtitles
from voxform.errors import ItemError
from voxform.ice.wire import Segment

Render = Callable[[Sequence[Segment]], str]

SEGMENTS = [
    Segment("  Welcome to the course. ", 0.0, 1.5),
    Segment("   ", 1.5, 2.0),  # a pause: no cue
    Segment("Chapter two begins.", 3723.004, 3725.25),
]


def test_vtt_has_a_header_and_one_dotted_cue_per_spoken_segment() -> None:
    assert to_vtt(SEGMENTS) == (
        "WEBVTT\n"
        "\n"
        "00:00:00.000 --> 00:00:01.500\n"
        "Welcome to the course.\n"
        "\n"
        "01:02:03.004 --> 01:02:05.250\n"
        "Chapter two begins.\n"
    )


def test_srt_numbers_spoken_cues_from_one_with_comma_milliseconds() -> None:
    assert to_srt(SEGMENTS) == (
        "1\n"
        "00:00:00,000 --> 00:00:01,500\n"
        "Welcome to the course.\n"
        "\n"
        "2\n"
        "01:02:03,004 --> 01:02:05,250\n"
        "Chapter two begins.\n"
    )


def test_vtt_cues_escape_what_players_would_parse_as_tags() -> None:
    segments = [Segment("Rock & roll <b>loud</b> --> a > b &amp;", 0.0, 1.0)]
    assert to_vtt(segments).splitlines()[3] == (
        "Rock &amp; roll &lt;b&gt;loud&lt;/b&gt; --&gt; a &gt; b &amp;amp;"
    )


def test_srt_cues_keep_the_spoken_text_as_it_is() -> None:
    # SubRip has no escapes: players show "&amp;" as written, so the text goes verbatim.
    segments = [Segment("Rock & roll, 3 < 4", 0.0, 1.0)]
    assert to_srt(segments).splitlines()[2] == "Rock & roll, 3 < 4"


@pytest.mark.parametrize("render", [to_vtt, to_srt])
def test_a_blank_line_inside_a_segment_cannot_end_its_cue(render: Render) -> None:
    document = render([Segment("First line\n\n  \nsecond line", 0.0, 1.0), Segment("Next", 1, 2)])
    cues = document.removeprefix("WEBVTT\n\n").split("\n\n")
    assert len(cues) == 2
    assert cues[0].endswith("First line\nsecond line")


def test_no_spoken_segments_give_an_empty_document() -> None:
    assert to_vtt([Segment(" ", 0.0, 1.0)]) == "WEBVTT\n\n"
    assert to_srt([]) == ""


@pytest.mark.parametrize(
    ("seconds", "stamp"),
    [
        (1.0005, "00:00:01.000"),  # the float is 1.000499999…: below the half
        (1.0006, "00:00:01.001"),
        (1.9996, "00:00:02.000"),  # rounded, not truncated
        (59.9996, "00:01:00.000"),  # the carry reaches the minutes
        (3599.9999, "01:00:00.000"),  # and the hours
        (36000.0, "10:00:00.000"),
        (-0.2, "00:00:00.000"),  # a timing before the start is the start
    ],
)
def test_stamps_round_to_the_nearest_millisecond_and_carry(seconds: float, stamp: str) -> None:
    assert to_vtt([Segment("x", seconds, 36001.0)]).splitlines()[2] == (f"{stamp} --> 10:00:01.000")
    assert to_srt([Segment("x", seconds, 36001.0)]).splitlines()[1] == (
        f"{stamp.replace('.', ',')} --> 10:00:01,000"
    )


def test_both_files_are_written_inside_the_project(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()

    written, digests = write_subtitles(root, "build/audio/lesson-01", SEGMENTS)

    assert written == {"vtt": "build/audio/lesson-01.vtt", "srt": "build/audio/lesson-01.srt"}
    assert (root / written["vtt"]).read_text("utf-8") == to_vtt(SEGMENTS)
    assert (root / written["srt"]).read_text("utf-8") == to_srt(SEGMENTS)
    for name in written.values():  # what the lockfile records is what is on disk
        data = (root / name).read_bytes()
        assert digests[name] == (hashlib.sha256(data).hexdigest(), len(data))
    assert sorted(p.name for p in (root / "build/audio").iterdir()) == [
        "lesson-01.srt",
        "lesson-01.vtt",
    ]  # no temporary files left behind


def test_a_place_outside_the_project_fails_the_item(tmp_path: Path) -> None:
    root = tmp_path / "a" / "project"
    root.mkdir(parents=True)

    with pytest.raises(ItemError) as caught:
        write_subtitles(root, "../../escape/x", SEGMENTS)

    assert caught.value.code == "InvalidOutput"
    assert "'../../escape' has a '..' part" in str(caught.value)
    assert not (tmp_path / "escape").exists()


def test_a_symlink_out_of_the_project_fails_the_item(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "subs").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ItemError, match="subs is a symlink"):
        write_subtitles(root, "subs/x", SEGMENTS)

    assert list(outside.iterdir()) == []


def test_a_symlink_inside_the_project_is_not_written_through(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "subs").mkdir(parents=True)
    manifest = root / "voxform.yaml"
    manifest.write_text("version: 1\n")
    (root / "subs/x.vtt").symlink_to("../voxform.yaml")
    (root / "elsewhere").mkdir()
    (root / "subtitles").symlink_to("elsewhere", target_is_directory=True)

    with pytest.raises(ItemError, match=r"x\.vtt is a symlink"):
        write_subtitles(root, "subs/x", SEGMENTS)
    with pytest.raises(ItemError, match="subtitles is a symlink"):
        write_subtitles(root, "subtitles/oss/x", SEGMENTS)

    assert manifest.read_text() == "version: 1\n"
    assert list((root / "elsewhere").iterdir()) == []


LINE_BREAKS = list(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\u00a0ab&<>.")


@given(st.text(alphabet=st.sampled_from(LINE_BREAKS) | st.characters(), max_size=30))
def test_a_cue_is_its_segments_lines_without_blank_ones(content: str) -> None:
    # every kind of line break str.splitlines knows, one-line text taken the short way
    lines = [line for raw in content.splitlines() if (line := raw.strip())]
    text = "\n".join(lines)
    srt = to_srt([Segment(content, 0.0, 1.0)])
    assert srt == (f"1\n00:00:00,000 --> 00:00:01,000\n{text}\n" if lines else "")
