"""What the render cache's files hold, noted in `.voxform/render-cache-held`, so that a
second plan, whose every result a block told, neither reads those files nor forks a writer
to read them: it stats them and reads this small note.

A plan whose results were all told by blocks (state/late_rendered.py) writes the render
cache only when its files lack the record of a told result: to know, the writer reads their
keys, 77 MB of file and its sha256 at 100,000 items. Once they were found to hold them (or
were written with them), the note says so: the files' stats (size, mtimes, inode, device;
the delta's, or none), the first file's digest and keys (for the delta written after an
edit without reading that file: render_save.py), and the count and sum of the render keys
they hold (a sum: the same whatever order the blocks tell them in). A plan telling the keys
whose count and sum the note has, of files with the stats it has, has nothing to write.

As git's index does, a stat vouches for a file that was not changed again in the clock tick
it was noted in: a note made less than SETTLE_NS after its files' last change (RACY_NS where
the file system's clock counts no finer than milliseconds) vouches for nothing; the writer
of a file noted waits out what is left of that (after one write: a few milliseconds) before
it notes it. Only a large cache is noted (NOTE_MIN keys): that is where a writer would be
forked. A note that is damaged, foreign or of other files is ignored. One that lied would
cost no plan its bytes: a told result whose record is not in the files is rendered again
when its request is asked for (RenderCache.settle), and the files are written again then.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import NamedTuple, Protocol

from voxform.state import racy
from voxform.state.cachefile import CacheTable, read_cache, read_keys, write_cache

HELD = "-held"  # the note's name: the render cache's and this
KIND = "render held 1"
_RECORD = hashlib.sha256(b"render cache held").digest()
_RAW = 32  # a key's bytes
_MISSING = (-1, -1, -1, -1, -1)
NOTE_MIN = 2000  # keys told or written, fewer than this are not noted (nor looked for)
SETTLE_NS = racy.SETTLE_NS  # a note this long after its files' change: past a clock's tick


class Identified(Protocol):
    """The render cache, as a note and its files are made for it."""

    identity: str

    def over(self, digest: str) -> str:
        """The identity of a delta over the file whose body has sha256 `digest`."""
        ...


class Note(NamedTuple):
    """What a note says of the files: the first's digest and keys (32 bytes each, one after
    another, as it has them), and the count and sum of keys the two hold."""

    digest: str
    keys: bytes
    held: tuple[int, str]


def key_sum(keys: list[list[bytes]]) -> tuple[int, str]:
    """How many `keys` there are, and their sum (each read as a number), in hex."""
    count = total = 0
    for run in keys:
        count += len(run)
        total += sum(map(int.from_bytes, run))
    return count, format(total, "x")


def noted(files: tuple[Path, Path], cache: Identified, told: list[list[bytes]]) -> bool:
    """Whether the note beside `files` (the render cache and its delta) says that they,
    as they are now, hold the keys of `told` (never when they are fewer than NOTE_MIN)."""
    if sum(map(len, told)) < NOTE_MIN:
        return False
    found = read_note(files, cache)
    return found is not None and found.held == key_sum(told)


def read_note(files: tuple[Path, Path], cache: Identified) -> Note | None:
    """The note beside `files`, if it vouches for them as they are now."""
    reader = read_cache(_note_path(files[0]), KIND, cache.identity)
    at = reader.records.get(_RECORD) if reader is not None else None
    if reader is None or at is None:
        return None
    try:
        found = list(reader.ints[at : at + 15])  # stats, texts, count of keys, when, held
        keys = reader.ints[at + 15 : at + 15 + found[12] * _RAW // 8].tobytes()
        total, digest = reader.text(found[10]), reader.text(found[11])
    except (IndexError, ValueError):
        return None
    stats = [*_stat(files[0]), *_stat(files[1])]
    if stats[0] < 0 or found[:10] != stats or found[13] - _unsettled(stats) < 0:
        return None
    if total is None or digest is None or len(found) < 15 or len(keys) != found[12] * _RAW:
        return None
    return Note(digest, keys, (found[14], total))


def note(
    root: Path,
    files: tuple[Path, Path],
    identity: str,
    held: list[list[bytes]],
    first: tuple[str, bytes],
) -> None:
    """Note that `files`, as they are now, hold the keys of `held`, the first of them
    having `first` (its digest and its keys, one after another): call after they were
    written with them, or found to hold them. Not when they are fewer than NOTE_MIN."""
    stats = [*_stat(files[0]), *_stat(files[1])]
    if stats[0] < 0 or sum(map(len, held)) < NOTE_MIN:
        return
    count, total = key_sum(held)  # 10 ms at 100,000 keys: most of the tick waited out
    wait = _unsettled(stats) - time.time_ns()
    if wait > SETTLE_NS:
        return  # a clock counting in milliseconds or coarser: noted by the next writer
    if wait > 0:
        time.sleep(wait / 1e9)  # what is left of the tick, in a writer no one waits for
    table = CacheTable()
    table.record(_RECORD)
    for value in stats:
        table.number(value)
    table.text(total)
    table.text(first[0])
    table.number(len(first[1]) // _RAW)
    table.number(time.time_ns())
    table.number(count)
    table.ints.frombytes(first[1])
    write_cache(_note_path(files[0]), root, KIND, identity, table)


def holds(
    files: tuple[Path, Path], kind: str, cache: Identified, told: list[list[bytes]]
) -> tuple[str, bytes] | None:
    """The first file's digest and keys when the files, whole, have a record of each key of
    `told` (their keys alone read, as `read_cache` checks them, the delta's made for a delta
    over the first); else None."""
    first = read_keys(files[0], kind, cache.identity)
    if first is None:
        return None
    delta = read_keys(files[1], kind, cache.over(first[0]))
    held = {
        keys[at : at + _RAW]
        for keys in (first[1], b"" if delta is None else delta[1])
        for at in range(0, len(keys), _RAW)
    }
    return first if all(key in held for keys in told for key in keys) else None


def _unsettled(stats: list[int]) -> int:
    """When a note of files with `stats` vouches for them (state/racy.py): a clock tick
    after their last change (mtime, ctime)."""
    return racy.unsettled((*stats[1:3], *stats[6:8]))


def _stat(path: Path) -> tuple[int, int, int, int, int]:
    try:
        st = os.lstat(path)
    except OSError:
        return _MISSING
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def _note_path(path: Path) -> Path:
    return path.with_name(path.name + HELD)
