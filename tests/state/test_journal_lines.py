"""The journal's lines: each holds exactly its entry's lockfile block, whether the fields an
item repeats while in flight were spelt anew or taken from its record before."""

from __future__ import annotations

import json
from pathlib import Path

from voxform.state.journal import Journal, journal_path, read_state
from voxform.state.lockfile import LockEntry, LockState, write_lockfile
from voxform.state.outputs import FileDigest

INPUTS = {"engine": "sha256:" + "01" * 32, "voice_id": "siqi", "text": 'naïve "quoted" ✓'}
FINGERPRINT = "sha256:" + "ab" * 32


def entry(state: str = "pending", **extra: object) -> LockEntry:
    fields: dict[str, object] = {
        "fingerprint": FINGERPRINT,
        "characters": 12,
        "inputs": dict(INPUTS),
        "chunk": "sha256:" + "cd" * 32,
    }
    fields.update(extra)
    return LockEntry(state=state, **fields)  # type: ignore[arg-type]


def lines(root: Path, *records: tuple[str, LockEntry | None]) -> list[dict[str, object]]:
    lock = root / "voxform.lock"
    journal = Journal(lock, journal_path(root, lock))
    journal.open()
    for key, value in records:
        journal.record(key, value)
    journal.flush()
    return [json.loads(line) for line in journal.path.read_bytes().splitlines()]


def test_every_line_holds_its_whole_entry(tmp_path: Path) -> None:
    digest = FileDigest(sha256="ef" * 32, size=10)
    steps = [
        ("a", entry(token="0123456789abcdef0123")),
        ("a", entry(job_id="job-1")),
        ("b", entry(token="00000000000000000000", chunk=None)),
        ("a", entry("finished", job_id="j", url="oss://b/k", duration=1.5, outputs={"s": digest})),
        ("b", None),
        ("b", entry(token="11111111111111111111", chunk=None)),
        ("b", entry(job_id="job-2", chunk=None)),
    ]
    written = lines(tmp_path, *steps)
    assert [line["id"] for line in written] == [key for key, _ in steps]
    for line, (_, value) in zip(written, steps, strict=True):
        assert line["entry"] == (value and value.to_json())
        assert set(line) == {"at", "entry", "id"}


def test_a_change_to_the_repeated_fields_is_written(tmp_path: Path) -> None:
    # The item's fingerprint, characters, chunk and inputs are compared, never assumed.
    changed = [
        entry(job_id="j"),
        entry(job_id="j", fingerprint="sha256:" + "ee" * 32),
        entry(job_id="j", characters=13),
        entry(job_id="j", chunk="sha256:" + "ff" * 32),
        entry(job_id="j", inputs={**INPUTS, "voice_id": "xiaoyun"}),
        entry(job_id="j", inputs={}),
        entry(job_id="j", chunk=None),
    ]
    written = lines(tmp_path, *[("a", value) for value in changed])
    assert [line["entry"] for line in written] == [value.to_json() for value in changed]


def test_the_lines_replay_to_the_entries(tmp_path: Path) -> None:
    lock = tmp_path / "voxform.lock"
    write_lockfile(lock, LockState({"old": entry("finished", job_id="j0")}))
    final = entry("finished", job_id="j1", subtitles={"vtt": "s/a.vtt"})
    intent = entry(token="0123456789abcdef0123")
    lines(tmp_path, ("a", intent), ("a", entry(job_id="j1")), ("a", final))
    state = read_state(lock, journal_path(tmp_path, lock)).state
    assert state.items == {"old": entry("finished", job_id="j0"), "a": final}


def test_inputs_changed_in_place_are_written(tmp_path: Path) -> None:
    first = entry(job_id="j")
    second = entry(job_id="j", inputs=first.inputs)  # the same dict, changed in between
    lock = tmp_path / "voxform.lock"
    journal = Journal(lock, journal_path(tmp_path, lock))
    journal.open()
    journal.record("a", first)
    first.inputs["voice_id"] = "xiaoyun"
    journal.record("a", second)
    journal.flush()
    written = [json.loads(line) for line in journal.path.read_bytes().splitlines()]
    assert written[1]["entry"]["inputs"]["voice_id"] == "xiaoyun"
