"""The lockfile is deterministic, merge-friendly and never half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxform.state.lockfile import (
    LockEntry,
    LockfileError,
    LockState,
    read_lockfile,
    write_lockfile,
)


def entry(**extra: object) -> LockEntry:
    return LockEntry(state="finished", fingerprint="sha256:ab", characters=3, **extra)  # type: ignore[arg-type]


def test_same_state_gives_same_bytes_with_sorted_keys(tmp_path: Path) -> None:
    a = LockState({"b": entry(url="x"), "a": entry(job_id="j")})
    b = LockState({"a": entry(job_id="j"), "b": entry(url="x")})
    assert a.to_bytes() == b.to_bytes()
    text = a.to_bytes().decode()
    assert text.endswith("}\n") and '\n  "items": {\n    "a": {' in text
    document = json.loads(text)
    assert list(document) == ["items", "lockfile_version"]
    assert "serial" not in text and "time" not in text


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "voxform.lock"
    state = LockState({"x": entry(inputs={"text": "sha256:1"}, duration=1.5)})
    write_lockfile(path, state)
    assert read_lockfile(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["voxform.lock"]  # no temporary left behind


def test_conflicted_lockfile_is_reported_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "voxform.lock"
    path.write_text('{\n<<<<<<< HEAD\n  "items": {}\n}\n')
    with pytest.raises(LockfileError, match=r"voxform.lock:2:1: lockfile is not valid JSON"):
        read_lockfile(path)
    assert path.read_text().startswith("{\n<<<<<<<")


def test_missing_lockfile_is_empty(tmp_path: Path) -> None:
    assert read_lockfile(tmp_path / "voxform.lock").items == {}
