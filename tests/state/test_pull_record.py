"""The pull record: a file is unchanged by its stat, or by its CRC-64 when the stat moved;
a damaged record costs downloads, never a wrong answer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxform.oss.crc64 import crc64
from voxform.state.pulled import PullRecord

DATA = b"the audio of one take" * 100
OBJECT = ("audio", "course/a.mp3", '"ETAG"', len(DATA))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "build").mkdir()
    (tmp_path / "build/a.mp3").write_bytes(DATA)
    return tmp_path


def record(root: Path) -> PullRecord:
    return PullRecord(root / ".voxform/pull-record.json", root)


def written(root: Path) -> PullRecord:
    kept = record(root)
    kept.wrote("build/a.mp3", *OBJECT, crc64(DATA))
    kept.save()
    return record(root)


def test_a_file_as_written_is_unchanged_and_a_touch_costs_a_read_not_a_download(
    root: Path,
) -> None:
    assert written(root).unchanged("build/a.mp3", *OBJECT)
    os.utime(root / "build/a.mp3", ns=(1, 1))
    assert written(root).unchanged("build/a.mp3", *OBJECT)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.write_bytes(DATA[:-1] + b"X"),  # same size, other bytes
        lambda p: p.write_bytes(DATA + b"more"),
        lambda p: p.unlink(),
    ],
)
def test_a_file_changed_by_hand_is_not_unchanged(root: Path, change) -> None:
    kept = written(root)
    change(root / "build/a.mp3")
    assert not kept.unchanged("build/a.mp3", *OBJECT)


def test_an_object_replaced_in_the_bucket_is_not_unchanged(root: Path) -> None:
    kept = written(root)
    assert not kept.unchanged("build/a.mp3", "audio", "course/a.mp3", '"OTHER"', len(DATA))
    assert not kept.unchanged("build/a.mp3", "other", "course/a.mp3", '"ETAG"', len(DATA))
    assert not kept.unchanged("build/b.mp3", *OBJECT)


def test_a_symlink_in_place_of_the_file_is_not_unchanged(root: Path, tmp_path: Path) -> None:
    kept = written(root)
    elsewhere = tmp_path / "elsewhere.mp3"
    elsewhere.write_bytes(DATA)
    (root / "build/a.mp3").unlink()
    (root / "build/a.mp3").symlink_to(elsewhere)
    assert not kept.unchanged("build/a.mp3", *OBJECT)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b'{"version": 2, "files": {}}',
        b'{"version": 1, "files": []}',
        b'{"version": 1, "files": {"build/a.mp3": ["audio", "course/a.mp3", 1, 2, 3, null]}}',
    ],
)
def test_a_damaged_or_foreign_record_is_ignored(root: Path, content: bytes) -> None:
    (root / ".voxform").mkdir()
    (root / ".voxform/pull-record.json").write_bytes(content)
    kept = record(root)
    assert kept.files == {}
    assert not kept.unchanged("build/a.mp3", *OBJECT)
