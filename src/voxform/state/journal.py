"""The apply journal: every state change appended to `.voxform/`, so apply stays linear.

`voxform.lock` is rewritten only at checkpoints and at the end of a run; in between, each
change (an intent to submit, a job id, a result) is one JSON line appended here and fsync'd,
many lines to one fsync when they land together. A crash leaves the journal behind; whoever
reads state next replays it over the lockfile, so `plan` shows the crashed run's jobs as
`resume`. A torn last line (the process died while writing it) is ignored: the line before
it was fsync'd before anything that depends on it was sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass, field, fields
from json import encoder as _json
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, BinaryIO

from voxform.files import check_creatable, check_writable, open_appending, remove_entry
from voxform.reading import open_regular
from voxform.state.jsonfile import JsonProblem, describe, is_seconds, load_json
from voxform.state.lockfile import (
    ITEM_ID,
    LockEntry,
    LockfileError,
    LockState,
    parse_entry,
    read_lockfile,
    write_lockfile,
)

JOURNAL_DIR = Path(".voxform")
MAX_RECORD_BYTES = 1 << 24  # one journal line; an entry is a few hundred bytes


def journal_path(root: Path, lock_path: Path) -> Path:
    """The journal of the lockfile at `lock_path`, in the project's `.voxform/`."""
    return root / JOURNAL_DIR / f"{lock_path.name}.journal"


def index_path(journal: Path) -> Path:
    """The index of the lockfile whose journal is `journal` (state/lockindex.py)."""
    return journal.with_name(journal.name.removesuffix(".journal") + ".index")


@dataclass
class Replayed:
    """The lockfile with a leftover journal replayed over it."""

    state: LockState
    intent_times: dict[str, float] = field(default_factory=dict)  # id -> when it was written
    records: int = 0


def read_state(lock_path: Path, journal: Path) -> Replayed:
    """The lockfile at `lock_path` with the journal (if any) replayed over it, read-only;
    LockfileError naming the journal's line for a record voxform would not write."""
    replayed = Replayed(read_lockfile(lock_path, index=index_path(journal)))
    try:
        with open_regular(journal) as handle:
            _replay(journal, handle, replayed)
    except FileNotFoundError:
        pass
    return replayed


def _replay(journal: Path, handle: BinaryIO, replayed: Replayed) -> None:
    lines = iter(lambda: handle.readline(MAX_RECORD_BYTES), b"")
    for number, line in enumerate(lines, start=1):
        if not line.endswith(b"\n"):
            if len(line) >= MAX_RECORD_BYTES:
                raise LockfileError(
                    f"{journal}:{number}: a record longer than {MAX_RECORD_BYTES:,} bytes, "
                    f"which voxform never writes; {_ADVICE}"
                )
            break  # torn by a crash mid-write; nothing depended on it
        key, raw, at = _record(f"{journal}:{number}", line)
        replayed.records += 1
        if raw is None:  # an intent withdrawn: the item is as it was before
            replayed.state.items.pop(key, None)
            replayed.intent_times.pop(key, None)
            continue
        entry = parse_entry(f"{journal}:{number}", key, raw, _ADVICE)
        replayed.state.items[key] = entry
        if entry.unresolved:
            replayed.intent_times[key] = at
        else:
            replayed.intent_times.pop(key, None)


_ADVICE = "move the journal aside to ignore what the interrupted apply recorded"
# json.dumps(ensure_ascii=False, sort_keys=True), its encoder made once, not per line
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def _refuse(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON")


# The same, called directly: JSONEncoder.encode makes a C encoder anew on each call, which
# for the few short fields of a record costs twice the encoding itself.
_MAKE = getattr(_json, "c_make_encoder", None)
_C_ENCODE = _MAKE and _MAKE(None, _refuse, encode_basestring, None, ": ", ", ", True, False, True)


def _dumps(value: dict[str, object]) -> str:
    return "".join(_C_ENCODE(value, 0)) if _C_ENCODE else _ENCODER.encode(value)


_KEYS = ("at", "entry", "id")
# What the plan gave an item, repeated by each of its records while it is in flight (an
# intent, its job id, its result): encoded once per item, and the rest of each line is a few
# short fields. The keys of a line are not sorted; its reader takes them in any order.
_BASE = ("characters", "chunk", "fingerprint", "inputs")
_OWN = tuple(f.name for f in fields(LockEntry) if f.name not in _BASE and f.name != "outputs")
Base = tuple[str, int, "str | None", dict[str, str], str]  # the fields, and their JSON


def _record(where: str, line: bytes) -> tuple[str, object, float]:
    """One journal line as (item id, lockfile block or None, when it was written)."""

    def refuse(problem: str) -> LockfileError:
        return LockfileError(f"{where}{problem}; {_ADVICE}")

    try:
        record = load_json(line)
    except JsonProblem as exc:
        column = f":{exc.column}" if exc.column is not None else ""
        raise refuse(f"{column}: journal record {exc.reason}") from None
    if not isinstance(record, dict):
        raise refuse(f": journal record must be a JSON object, not {describe(record)}")
    for name in record:
        if name not in _KEYS:
            raise refuse(f": unknown key {name!r} in a journal record")
    for name in ("entry", "id"):
        if name not in record:
            raise refuse(f": record has no {name!r}")
    key, at = record["id"], record.get("at", 0.0)
    if not isinstance(key, str) or not ITEM_ID.fullmatch(key):
        raise refuse(f": 'id' must be an item id, not {describe(key)}")
    if not is_seconds(at):
        raise refuse(f": 'at' must be a time in seconds since 1970, not {describe(at)}")
    return key, record["entry"], float(at)


def _drop_torn_tail(handle: IO[bytes]) -> None:
    """Cut a last line left unfinished by a crash, so that new lines start on their own."""
    fd = handle.fileno()
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return
    end = size
    while end > 0:
        chunk = os.pread(fd, min(4096, end), end - min(4096, end))
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            end = end - len(chunk) + newline + 1
            break
        end -= len(chunk)
    if end != size:
        os.ftruncate(fd, end)


class Journal:
    """Appends state changes for one apply; `checkpoint` folds them into the lockfile."""

    def __init__(self, lock_path: Path, path: Path) -> None:
        self.lock_path = lock_path
        self.path = path
        # the project, as `journal_path` placed the journal in it: `.voxform/` below it must
        # be a real folder, or the journal would be written wherever a link pointed
        self.root = path.parent.parent
        self._handle: IO[bytes] | None = None
        self._buffer: list[bytes] = []
        self._bases: dict[str, Base] = {}  # by item id, while its entry is pending
        self.since_checkpoint = 0
        # Apply syncs on a thread of its own while changes are still recorded: the queue is
        # handed over under `_queue`, and one flush writes at a time.
        self._queue = threading.Lock()
        self._writing = threading.Lock()

    def open(self) -> None:
        """Open for appending and prove that both the journal and the lockfile can be
        written: an apply that cannot record must not submit anything."""
        # unbuffered: whole writes, or an exact truncate
        handle = open_appending(self.path, root=self.root)
        try:
            _drop_torn_tail(handle)
            # not a symlink, not read-only, in a folder a file can be made in: what the
            # final write would refuse, refused before anything is sent
            check_writable(self.lock_path)
            check_creatable(self.lock_path)
        except BaseException:
            handle.close()
            raise
        self._handle = handle

    def record(self, key: str, entry: LockEntry | None) -> None:
        """Queue one change (None: the item has no entry); durable after the next `flush`."""
        at = round(time.time(), 3)
        if entry is None:
            self._bases.pop(key, None)
            line = _ENCODER.encode({"at": at, "entry": None, "id": key})
        else:
            spelt, name = self._entry(key, entry), encode_basestring(key)
            line = f'{{"at": {at!r}, "entry": {spelt}, "id": {name}}}'
        encoded = line.encode() + b"\n"
        with self._queue:
            self._buffer.append(encoded)

    def _entry(self, key: str, entry: LockEntry) -> str:
        """`entry.to_json()` as JSON, the fields of `_BASE` from the item's last record
        when they are the same (compared, not assumed); kept while the entry is pending."""
        base = self._bases.get(key)
        if (
            base is None
            or base[0] != entry.fingerprint
            or base[1] != entry.characters
            or base[2] != entry.chunk
            or base[3] != entry.inputs
        ):
            given = {name: getattr(entry, name) for name in _BASE}
            if entry.chunk is None:
                del given["chunk"]
            spelt = _dumps(given)[1:-1]
            inputs = dict(entry.inputs)  # a copy: what was spelt, whatever befalls the entry's
            base = (entry.fingerprint, entry.characters, entry.chunk, inputs, spelt)
        if entry.state == "pending":
            self._bases[key] = base
        else:
            self._bases.pop(key, None)
        own: dict[str, object] = {n: v for n in _OWN if (v := getattr(entry, n)) is not None}
        if entry.outputs is not None:
            own["outputs"] = {name: d.to_json() for name, d in entry.outputs.items()}
        return f"{{{_dumps(own)[1:-1]}, {base[4]}}}"

    @property
    def dirty(self) -> bool:
        return bool(self._buffer)

    def flush(self) -> None:
        """Write every queued change with one fsync; OSError (a full disk) leaves the
        journal with whole lines only, and the queued changes unwritten. Changes recorded
        meanwhile (from another thread) wait for the next flush."""
        with self._writing:
            with self._queue:
                lines, self._buffer = self._buffer, []
            if not lines:
                return
            assert self._handle is not None, "journal not open"
            data = memoryview(b"".join(lines))
            fd = self._handle.fileno()
            try:
                start = os.lseek(fd, 0, os.SEEK_END)
                try:
                    while data:
                        data = data[os.write(fd, data) :]
                    os.fsync(fd)
                except OSError:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, start)  # whole lines only, whatever was half written
                    raise
            except OSError:
                with self._queue:
                    self._buffer[:0] = lines
                raise
            self.since_checkpoint += len(lines)

    def checkpoint(self, state: LockState) -> None:
        """Fold everything into voxform.lock and start the journal afresh."""
        self.flush()
        write_lockfile(self.lock_path, state)
        assert self._handle is not None
        self._handle.truncate(0)
        self._handle.seek(0)
        os.fsync(self._handle.fileno())
        self.since_checkpoint = 0

    def close(self, state: LockState | None) -> None:
        """Write the final lockfile and remove the journal; with None (the lockfile could not
        be written), keep the journal for the next command to replay."""
        if self._handle is None:
            return
        try:
            if state is not None:
                self.flush()
                write_lockfile(self.lock_path, state)
                self._handle.close()
                remove_entry(self.path, root=self.root)
        finally:
            if not self._handle.closed:
                self._handle.close()
            self._handle = None
