"""The apply journal: changes appended between lockfile writes, replayed by whoever reads
state next, so a crash loses nothing that was sent and the lockfile is never half-written."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxform.state.journal import Journal, journal_path, read_state
from voxform.state.lockfile import (
    LockEntry,
    LockfileError,
    LockState,
    read_lockfile,
    write_lockfile,
)


def entry(state: str = "finished", **extra: object) -> LockEntry:
    return LockEntry(state=state, fingerprint="sha256:" + "ab" * 32, characters=3, **extra)  # type: ignore[arg-type]


INTENT = entry("pending", token="0123456789abcdef0123")
RUNNING = entry("pending", job_id="job-1")
FINISHED = entry("finished", job_id="job-1", url="oss://audio/a.mp3", duration=1.5)
FAILED = entry("failed", job_id="job-2", error_code="TtsFailed", error_message="engine error")


class Files:
    """A project's lockfile and journal paths."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = root / "voxform.lock"
        self.journal = journal_path(root, self.lock)

    def write_journal(self, *lines: bytes | dict[str, object]) -> None:
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        data = b"".join(
            line if isinstance(line, bytes) else json.dumps(line).encode() + b"\n" for line in lines
        )
        self.journal.write_bytes(data)

    def read(self) -> LockState:
        return read_state(self.lock, self.journal).state

    def opened(self) -> Journal:
        journal = Journal(self.lock, self.journal)
        journal.open()
        return journal


def record(key: str, value: LockEntry | None, at: float = 0.0) -> dict[str, object]:
    """A journal line as the journal writes it."""
    return {"at": at, "entry": value and value.to_json(), "id": key}


@pytest.fixture
def files(tmp_path: Path) -> Files:
    root = tmp_path / "project"
    root.mkdir()
    return Files(root)


def test_the_journal_lives_in_the_projects_dot_voxform(tmp_path: Path) -> None:
    assert journal_path(tmp_path, tmp_path / "voxform.lock") == (
        tmp_path / ".voxform" / "voxform.lock.journal"
    )
    assert journal_path(tmp_path, tmp_path / "alt" / "team.lock").name == "team.lock.journal"


def test_without_a_journal_the_state_is_the_lockfile(files: Files) -> None:
    write_lockfile(files.lock, LockState({"a": FINISHED}))
    replayed = read_state(files.lock, files.journal)
    assert replayed.state == LockState({"a": FINISHED})
    assert (replayed.intent_times, replayed.records) == ({}, 0)


def test_records_are_replayed_over_the_lockfile_in_order(files: Files) -> None:
    write_lockfile(files.lock, LockState({"a": FINISHED, "b": FINISHED}))
    files.write_journal(
        record("a", INTENT, 10.0),
        record("b", FAILED, 11.0),
        record("a", RUNNING, 12.0),
        record("c", INTENT, 13.0),
        record("a", FINISHED, 14.0),
        record("c", RUNNING, 15.0),
    )

    replayed = read_state(files.lock, files.journal)

    assert replayed.state.items == {"a": FINISHED, "b": FAILED, "c": RUNNING}
    assert replayed.records == 6
    assert read_lockfile(files.lock).items == {"a": FINISHED, "b": FINISHED}  # read-only


def test_a_null_entry_removes_the_item(files: Files) -> None:
    write_lockfile(files.lock, LockState({"a": FINISHED, "b": FINISHED}))
    files.write_journal(
        record("c", INTENT, 1.0),
        record("a", None, 2.0),  # an item the lockfile had
        record("c", None, 3.0),  # a withdrawn intent
    )

    replayed = read_state(files.lock, files.journal)

    assert replayed.state.items == {"b": FINISHED}
    assert replayed.intent_times == {}


def test_intent_times_are_kept_for_unresolved_entries_only(files: Files) -> None:
    files.write_journal(
        record("a", INTENT, 100.0),
        record("b", INTENT, 101.0),
        record("b", RUNNING, 102.0),  # its job id is known: nothing to look up
        record("c", INTENT, 103.0),
        record("c", FAILED, 104.0),
        record("d", RUNNING, 105.0),
        record("e", INTENT, 106.0),
        record("e", INTENT, 107.0),  # sent again: the later time counts
    )

    replayed = read_state(files.lock, files.journal)

    assert replayed.intent_times == {"a": 100.0, "e": 107.0}
    assert {k for k, e in replayed.state.items.items() if e.unresolved} == {"a", "e"}


def test_a_torn_last_line_is_ignored(files: Files) -> None:
    files.write_journal(
        record("a", INTENT, 1.0),
        record("a", RUNNING, 2.0),
        json.dumps(record("a", FINISHED, 3.0)).encode()[:25],  # the crash came mid-write
    )

    replayed = read_state(files.lock, files.journal)

    assert replayed.state.items == {"a": RUNNING}
    assert replayed.records == 2


def test_a_whole_record_without_its_newline_is_torn_too(files: Files) -> None:
    files.write_journal(record("a", RUNNING, 1.0), json.dumps(record("a", FINISHED)).encode())
    assert files.read().items == {"a": RUNNING}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"{not json\n", "2:2: journal record is not valid JSON"),
        (b'{"at": 1.0, "id": "a"}\n', "2: record has no 'entry'"),
        (b"[1, 2]\n", "2: journal record must be a JSON object, not a list"),
        (b"\n", "2:1: journal record is not valid JSON"),
        (b'{"at": "noon", "entry": null, "id": "a"}\n', "2: 'at' must be a time"),
        (
            b'{"at": 1.0, "entry": {"state": "lost"}, "id": "a"}\n',
            "2: item 'a' has no 'fingerprint'",
        ),
    ],
)
def test_a_bad_line_in_the_middle_is_an_error_naming_the_journal_and_line(
    files: Files, line: bytes, problem: str
) -> None:
    write_lockfile(files.lock, LockState({"a": FINISHED}))
    before = files.lock.read_bytes()
    files.write_journal(record("a", INTENT, 1.0), line, record("a", RUNNING, 2.0))

    with pytest.raises(LockfileError, match=re.escape(f"{files.journal}:{problem}")):
        read_state(files.lock, files.journal)

    assert files.lock.read_bytes() == before


def test_what_the_journal_writes_is_what_read_state_replays(files: Files) -> None:
    write_lockfile(files.lock, LockState({"b": FINISHED}))
    journal = files.opened()
    journal.record("a", INTENT)
    journal.record("b", None)
    journal.flush()
    journal.record("c", FAILED)
    assert journal.dirty
    journal.flush()
    assert not journal.dirty
    journal.close(None)

    replayed = read_state(files.lock, files.journal)

    assert replayed.state.items == {"a": INTENT, "c": FAILED}
    assert replayed.intent_times["a"] == pytest.approx(time.time(), abs=60)
    assert replayed.records == 3


def test_records_are_on_disk_only_after_a_flush(files: Files) -> None:
    journal = files.opened()
    journal.record("a", INTENT)

    assert files.read().items == {}
    journal.flush()
    assert files.read().items == {"a": INTENT}
    journal.close(None)


def test_checkpoint_writes_the_lockfile_and_empties_the_journal(files: Files) -> None:
    journal = files.opened()
    state = LockState({"a": RUNNING, "b": FINISHED})
    journal.record("a", RUNNING)
    journal.record("b", FINISHED)

    journal.checkpoint(state)

    assert read_lockfile(files.lock) == state
    assert files.journal.read_bytes() == b""
    assert journal.since_checkpoint == 0
    journal.record("a", FINISHED)  # the journal goes on from there
    journal.flush()
    assert files.read().items == {"a": FINISHED, "b": FINISHED}
    assert journal.since_checkpoint == 1
    journal.close(None)


def test_close_with_the_state_writes_the_lockfile_and_deletes_the_journal(files: Files) -> None:
    journal = files.opened()
    journal.record("a", INTENT)
    journal.flush()
    state = LockState({"a": FINISHED})
    journal.record("a", FINISHED)

    journal.close(state)

    assert read_lockfile(files.lock) == state
    assert not files.journal.exists()
    journal.close(state)  # a second close does nothing


def test_close_without_a_state_keeps_the_journal_for_the_next_reader(files: Files) -> None:
    write_lockfile(files.lock, LockState({"b": FINISHED}))
    before = files.lock.read_bytes()
    journal = files.opened()
    journal.record("a", RUNNING)
    journal.flush()

    journal.close(None)

    assert files.lock.read_bytes() == before
    assert files.journal.exists()
    assert files.read().items == {"a": RUNNING, "b": FINISHED}


def test_open_refuses_when_the_lockfile_cannot_be_written(files: Files, tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes into a read-only directory: make it no directory
        parent = tmp_path / "not-a-directory"
        parent.write_text("a file where the lockfile's directory should be")
    else:
        parent = tmp_path / "read-only"
        parent.mkdir()
        parent.chmod(0o555)
    journal = Journal(parent / "voxform.lock", files.journal)
    try:
        with pytest.raises(OSError):
            journal.open()
    finally:
        if parent.is_dir():
            parent.chmod(0o755)
        journal.close(None)
    assert not (parent / "voxform.lock").exists()


def test_open_leaves_no_probe_behind(files: Files) -> None:
    journal = files.opened()
    journal.close(None)
    assert sorted(p.name for p in files.root.iterdir()) == [".voxform"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_flush_that_cannot_write_raises_and_keeps_the_changes_queued(files: Files) -> None:
    journal = Journal(files.lock, files.journal)
    journal.open()
    journal.record("a", INTENT)

    with pytest.raises(OSError) as raised, file_size_limit(0):  # a full disk
        journal.flush()

    assert raised.value.errno == errno.EFBIG
    assert journal.dirty  # not lost: the next flush tries them again
    assert journal.since_checkpoint == 0
    with contextlib.suppress(OSError):
        journal.close(None)


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Writes beyond `size` bytes fail with EFBIG (a disk that fills up mid-write)."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_flush_that_fills_the_disk_mid_line_leaves_whole_lines_only(files: Files) -> None:
    journal = files.opened()
    journal.record("a", INTENT)
    journal.flush()
    whole = files.journal.read_bytes()
    journal.record("b", INTENT)

    with file_size_limit(len(whole) + 10), pytest.raises(OSError):
        journal.flush()

    on_disk = files.journal.read_bytes()
    journal.close(None)
    assert on_disk == whole


def test_a_journal_reopened_after_a_crash_mid_write_stays_readable(files: Files) -> None:
    files.write_journal(record("a", INTENT, 1.0), b'{"at": 2.0, "entry": {"sta')
    assert files.read().items == {"a": INTENT}  # the torn line is ignored...

    journal = files.opened()  # ...and the next apply carries on from that state
    journal.record("a", RUNNING)
    journal.flush()
    journal.close(None)  # and crashes too, or is read by `voxform plan` meanwhile

    assert files.read().items == {"a": RUNNING}
