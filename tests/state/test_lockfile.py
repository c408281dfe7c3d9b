"""The lockfile is deterministic, merge-friendly and never half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.state.lockfile import (
    LockEntry,
    LockfileError,
    LockState,
    read_lockfile,
    write_lockfile,
)


def entry(**extra: object) -> LockEntry:
    return LockEntry(state="finished", fingerprint="sha256:" + "ab" * 32, characters=3, **extra)  # type: ignore[arg-type]


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


_text = st.text(max_size=12)
_entries = st.builds(
    LockEntry,
    state=st.sampled_from(["finished", "pending", "failed"]),
    fingerprint=_text,
    characters=st.integers(min_value=0, max_value=10**6),
    inputs=st.dictionaries(_text, _text, max_size=4),
    chunk=st.none() | _text,
    job_id=st.none() | _text,
    duration=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    subtitles=st.none() | st.dictionaries(_text, _text, max_size=2),
    error_message=st.none() | _text,
    token=st.none() | _text,
)


@given(st.dictionaries(_text, _entries, max_size=6))
def test_lockfile_bytes_are_exactly_what_json_dumps_writes(items: dict[str, LockEntry]) -> None:
    """The hand-written serializer must never drift from json.dumps(indent=2, sort_keys)."""
    state = LockState(dict(items))
    document = {
        "items": {key: items[key].to_json() for key in sorted(items)},
        "lockfile_version": 1,
    }
    expected = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert state.to_bytes() == expected.encode()
