"""Subtitles that cannot be written: refused before the job is paid for (check_subtitles),
and after it finished kept as a failed result that still holds the job (store_subtitles)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxform.apply.subtitles import check_subtitles, store_subtitles
from voxform.errors import ItemError
from voxform.ice.wire import Segment
from voxform.providers.protocol import JobResult

FINISHED = JobResult(
    state="finished",
    job_id="job-1",
    media_id="media-1",
    url="https://my-audio.oss/c/a.mp3",
    duration=1.5,
    segments=(Segment("Fish & chips.", 0.0, 1.5),),
)


def planted(root: Path, kind: str, outside: Path) -> None:
    """`subtitles` as something no file can be written below."""
    if kind == "symlink":
        (root / "subtitles").symlink_to(outside, target_is_directory=True)
    else:
        (root / "subtitles").write_text("a file\n")


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    return root, outside


@pytest.mark.parametrize(
    ("kind", "message"),
    [("symlink", "subtitles is a symlink"), ("file", "subtitles is not a directory")],
)
def test_a_folder_no_file_can_be_written_below_is_refused_before_submitting(
    places: tuple[Path, Path], kind: str, message: str
) -> None:
    root, outside = places
    planted(root, kind, outside)

    with pytest.raises(ItemError, match=message) as caught:
        check_subtitles(root, "subtitles/oss/a")

    assert caught.value.code == "InvalidOutput"
    assert list(outside.iterdir()) == []


def test_a_place_still_to_be_made_is_fine(places: tuple[Path, Path]) -> None:
    root, _ = places
    check_subtitles(root, "subtitles/oss/a")
    assert not (root / "subtitles").exists()  # looked at, nothing made


def test_a_read_only_subtitle_file_is_refused_before_submitting(
    places: tuple[Path, Path],
) -> None:
    root, _ = places
    (root / "subtitles").mkdir()
    (root / "subtitles/a.srt").write_text("kept\n")
    (root / "subtitles/a.srt").chmod(0o444)

    with pytest.raises(ItemError, match=r"subtitles/a\.srt is read-only"):
        check_subtitles(root, "subtitles/a")


@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_subtitles_refused_after_the_job_finished_keep_the_job(
    places: tuple[Path, Path], kind: str
) -> None:
    root, outside = places
    planted(root, kind, outside)

    result = store_subtitles(root, "subtitles/oss/a", FINISHED)

    assert result.state == "failed" and result.error_code == "ResultNotStored"
    assert (result.job_id, result.media_id, result.url) == ("job-1", "media-1", FINISHED.url)
    assert result.error_message is not None
    assert result.error_message.startswith("the job finished, but its subtitles could not")
    assert "subtitles is" in result.error_message
    assert result.subtitles is None and result.outputs is None
    assert list(outside.iterdir()) == []


def test_subtitles_written_are_recorded_with_their_digests(places: tuple[Path, Path]) -> None:
    root, _ = places

    result = store_subtitles(root, "subtitles/oss/a", FINISHED)

    assert result.state == "finished" and result.error_code is None
    assert result.subtitles == {"vtt": "subtitles/oss/a.vtt", "srt": "subtitles/oss/a.srt"}
    assert result.outputs is not None and set(result.outputs) == set(result.subtitles.values())
    assert (root / "subtitles/oss/a.vtt").read_text("utf-8").endswith("Fish &amp; chips.\n")
