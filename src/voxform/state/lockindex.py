"""The lockfile's index in `.voxform/`: what a plan reads of each entry, without the JSON.

A plan right after an apply of 10,000 items reads a 21 MB lockfile, and parsing and
checking it costs more than the rest of the plan. Most of it is what only a changed item is
asked for (its inputs, job and media ids, duration, messages). Apply, which has just written
the lockfile, writes this index beside it: for each entry its state, fingerprint,
characters, chunk, audio digest, url and outputs, and where its block lies in
the lockfile's bytes. A plan that finds an index made for the very bytes it read (their
sha256 is its identity, in a cache container checked whole: state/cachefile.py) takes
those fields from it; any other field of an entry is read from its block in the lockfile
when first asked for, the quick way or the full one, as `read_lockfile` would. An index
damaged, stale, foreign or of another version is ignored: the lockfile is read the full way.

The index is written from the entries apply serialized into the lockfile (`write_lockfile`
remembers them with the digest of the bytes it wrote), every field checked as the quick
reading checks it, so that it holds what reading those bytes would give.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

from voxform import __version__
from voxform.state.cachefile import CacheTable, read_cache, write_cache
from voxform.state.jsonfile import SAFE_INTEGER, is_text
from voxform.state.lockfile import (
    _ETAG,
    _FIELD_NAMES,
    _FINGERPRINT,
    _HEX64,
    ITEM_ID,
    Laid,
    LockEntry,
    LockfileError,
    LockState,
    _written,
    parse_entry,
)
from voxform.state.lockquick import object_name, quick_entry, quick_state
from voxform.state.outputs import FileDigest, ObjectDigest, Output, object_digest

INDEX_VERSION = 1
KIND = "lock-index"
_STATES = ("finished", "pending", "failed")
# The fields the index holds; every other one is read from the entry's block when asked.
INDEXED = (
    "state",
    "fingerprint",
    "characters",
    "chunk",
    "audio_digest",
    "url",
    "outputs",
)
LAZY = tuple(name for name in _FIELD_NAMES if name not in INDEXED)
_ADVICE = "fix it or restore it from git"
_RECORD = bytes(32)  # the one record's key: the bytes indexed are named by the identity


class _Source:
    """The lockfile's bytes, where indexed entries read their other fields, and the entries
    made from its index (`fills`: how many were filled one by one)."""

    __slots__ = ("data", "entries", "filling", "fills", "path")

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.path = path
        self.entries: dict[str, LockEntry] = {}
        self.fills = 0
        self.filling = threading.Lock()  # apply's threads may ask for fields at once


# Entries filled from their own blocks, one by one; past that many (a command that reads
# every entry, as writing the lockfile does), the lockfile is read whole, once, for all.
ONE_BY_ONE = 64


class _Lazy:
    """A field of an indexed entry read from its block on first use (then kept)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, entry: IndexedEntry | None, owner: type | None = None) -> Any:
        if entry is None:
            return self
        entry._fill()
        return entry.__dict__[self.name]


class IndexedEntry(LockEntry):
    """A lockfile entry made from the index: the indexed fields set, the others read from
    its block in the lockfile when first used. Equal to the LockEntry of the same fields."""

    def _fill(self) -> None:
        block = self.__dict__.get("_block")
        if block is None:
            return  # filled by another thread since this one looked
        key, source, start, end = block
        with source.filling:
            if "_block" not in self.__dict__:
                return
            source.fills += 1
            if source.fills > ONE_BY_ONE and _fill_all(source):
                return
            try:
                raw = json.loads(source.data[start:end])
            except ValueError:
                raw = None
            _take(self, quick_entry(raw) or parse_entry(str(source.path), key, raw, _ADVICE))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LockEntry):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in _FIELD_NAMES)

    __hash__ = LockEntry.__hash__


def _take(entry: IndexedEntry, full: LockEntry) -> None:
    """Fill `entry`'s other fields from `full`, its block as read, which must hold what the
    index says."""
    spelt = entry.__dict__
    key, source, _, _ = spelt["_block"]
    if any(getattr(full, name) != spelt[name] for name in INDEXED):
        raise LockfileError(f"{source.path}: item {key!r} is not what its index says; {_ADVICE}")
    for name in LAZY:
        spelt[name] = getattr(full, name)
    del spelt["_block"]


def _fill_all(source: _Source) -> bool:
    """Fill every entry of `source` not filled yet from one reading of the whole lockfile,
    the quick way; False, nothing filled, when it is not to be read so."""
    try:
        state = quick_state(source.data.decode("utf-8"))
    except UnicodeDecodeError:
        state = None
    if state is None:
        return False
    for key, entry in source.entries.items():
        if isinstance(entry, IndexedEntry) and "_block" in entry.__dict__:
            full = state.items.get(key)
            if full is None:
                raise LockfileError(f"{source.path}: item {key!r} is not in it; {_ADVICE}")
            _take(entry, full)
    source.entries = {}
    return True


for _name in LAZY:
    _lazy = _Lazy()
    _lazy.__set_name__(IndexedEntry, _name)
    setattr(IndexedEntry, _name, _lazy)


def save_index(lock_path: Path, path: Path, root: Path) -> bool:
    """Write the index of the lockfile last written at `lock_path` by this process (see
    `write_lockfile`) at `path`, below `root`; whether it was. Nothing is written when that
    write is not known, or any field is not as the quick reading would take it."""
    written = _written.pop(str(lock_path), None)
    if written is None:
        return False
    table = _table(written)
    if table is None:
        with contextlib.suppress(OSError):
            path.unlink()  # an index of earlier bytes is only ignored; none is clearer
        return False
    write_cache(path, root, KIND, _identity(written[0]), table)
    return True


def _identity(digest: bytes) -> str:
    """The lockfile's bytes, by their sha256, as this voxform indexes them."""
    return f"{INDEX_VERSION}:{__version__}:{digest.hex()}"


def _table(written: Laid) -> CacheTable | None:
    """The index of the entries written, in columns (see `_state`); None when a field is
    not as the quick reading would take it, or a string holds a line break."""
    _, entries, spans = written
    states = {state: code for code, state in enumerate(_STATES)}
    buckets: set[str] = set()
    texts: list[str] = []  # per entry: id, fingerprint, chunk, audio digest, url
    outputs: list[str] = []  # per output: name, sha256 or etag, CRC-64
    numbers: list[list[int]] = [[], [], [], [], [], [], []]
    starts, ends, flags, counts, recorded, kinds, sizes = numbers
    prints: list[str] = []
    for (key, entry), (start, end) in zip(entries, spans, strict=True):
        count = entry.characters
        if (
            not ITEM_ID.fullmatch(key)
            or entry.state not in states
            or type(count) is not int
            or not 0 <= count < SAFE_INTEGER
        ):
            return None
        chunk, audio, url = entry.chunk, entry.audio_digest, entry.url
        nones = (chunk is None) | (audio is None) << 1 | (url is None) << 2
        texts += (key, entry.fingerprint, chunk or "", audio or "", url or "")
        prints.append(entry.fingerprint)
        if audio is not None:
            prints.append(audio)
        starts.append(start)
        ends.append(end)
        flags.append(states[entry.state] | nones << 2)
        counts.append(count)
        if not _recorded(entry.outputs, recorded, kinds, sizes, outputs, buckets):
            return None
    try:
        joined = "\n".join(texts + outputs)
        if not _patterns()[0].fullmatch("\n".join(prints) + "\n") or not is_text(joined):
            return None
    except TypeError:  # a field that is not a string
        return None
    if not _digests_good(outputs, kinds):
        return None
    if joined.count("\n") != len(texts) + len(outputs) - 1:
        return None  # a line break in a string: the strings are split at them
    table = CacheTable()
    table.record(_RECORD)
    table.text(joined, unique=True)
    table.number(len(entries))
    table.number(len(kinds))
    for column in numbers:
        table.ints.extend(column)
    return table


def _recorded(
    found: dict[str, Output] | None,
    recorded: list[int],
    kinds: list[int],
    sizes: list[int],
    outputs: list[str],
    buckets: set[str],
) -> bool:
    """An entry's outputs in the columns, each as the quick reading would take its block
    (lockquick._outputs): a file's name not an object's, an object's bucket and key what
    OSS takes, sizes and CRC-64 in range. The texts (UTF-8, a sha256's hex digits, an
    ETag's characters) are checked for all entries at once, by the caller."""
    if found is None:
        recorded.append(-1)
        return True
    if type(found) is not dict:
        return False
    recorded.append(len(found))
    for name, digest in sorted(found.items()):  # as the lockfile spells them: by name
        kind = type(digest)
        if kind is FileDigest and not name.startswith("oss://"):
            outputs += (name, digest.sha256, "")  # type: ignore[union-attr]
            kinds.append(0)
        elif kind is ObjectDigest and name.startswith("oss://"):
            if not object_name(name, buckets):
                return False
            crc = digest.crc64  # type: ignore[union-attr]
            if crc is not None and (type(crc) is not int or not 0 <= crc < 1 << 64):
                return False
            outputs += (name, digest.etag, "" if crc is None else str(crc))  # type: ignore[union-attr]
            kinds.append(1 if crc is None else 2)
        else:
            return False
        size = digest.size
        if type(size) is not int or not 0 <= size < SAFE_INTEGER:
            return False
        sizes.append(size)
    return True


def _digests_good(outputs: list[str], kinds: list[int]) -> bool:
    """Each file's sha256 64 hex digits, each object's ETag what OSS may send (the strings
    a line each: no line break is in either when these match)."""
    shas = [outputs[3 * n + 1] for n, kind in enumerate(kinds) if kind == 0]
    etags = [outputs[3 * n + 1] for n, kind in enumerate(kinds) if kind != 0]
    _, sha, etag = _patterns()
    return (not shas or sha.fullmatch("\n".join(shas) + "\n") is not None) and (
        not etags or etag.fullmatch("\n".join(etags) + "\n") is not None
    )


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """Fingerprints, sha256s and ETags, one a line (made when an index is first written:
    a command that only reads one, or none, does not compile them)."""
    return tuple(  # type: ignore[return-value]
        re.compile(f"(?:{one.pattern}\n)+") for one in (_FINGERPRINT, _HEX64, _ETAG)
    )


def read_index(path: Path, data: bytes, lockfile: Path) -> LockState | None:
    """The lockfile `data` (read from `lockfile`) as its index at `path` gives it, or None
    when there is no whole index made for these bytes."""
    digest = hashlib.sha256(data).digest()
    reader = read_cache(path, KIND, _identity(digest))
    at = reader.records.get(_RECORD) if reader is not None else None
    if reader is None or at is None:
        return None
    with contextlib.suppress(ValueError, TypeError, IndexError, OverflowError):
        return _state(reader.ints, reader.text, at, _Source(data, lockfile))
    return None


def _state(ints: Any, text: Any, at: int, source: _Source) -> LockState:
    """The entries of an index. Its numbers: the index of its text, the count of entries
    (n) and of outputs (m), then columns: each entry's block start and end, its state and
    which of chunk, audio digest and url are None, its characters and its count of outputs
    (-1: None); each output's kind (0: a file, 1: an object, 2: an object with a CRC-64)
    and size. Its text, one string a line: each entry's id, fingerprint, chunk, audio
    digest and url, then each output's name, sha256 or etag, and CRC-64."""
    numbers = ints[at + 1 :].tolist()  # after the index of the strings' text
    n, m = numbers[:2]
    if n < 0 or m < 0 or len(numbers) != 2 + 5 * n + 2 * m:
        raise ValueError("not the columns of an index")
    starts, ends, flags, counts, recorded = (numbers[2 + c * n : 2 + (c + 1) * n] for c in range(5))
    kinds, sizes = numbers[2 + 5 * n : 2 + 5 * n + m], numbers[2 + 5 * n + m :]
    strings = text(ints[at]).split("\n") if n else []
    if len(strings) != 5 * n + 3 * m or sum(r for r in recorded if r > 0) != m:
        raise ValueError("not the strings of an index")
    file_digest = tuple.__new__
    digests: list[Output] = [
        file_digest(FileDigest, (value, size))
        if kind == 0
        else object_digest(value, size, None if kind == 1 else int(crc))
        for kind, value, size, crc in zip(
            kinds, strings[5 * n + 1 :: 3], sizes, strings[5 * n + 2 :: 3], strict=True
        )
    ]
    names = strings[5 * n :: 3]
    new = object.__new__
    items: dict[str, LockEntry] = {}
    limit = len(source.data)
    done = 0
    columns = (strings[c : 5 * n : 5] for c in range(5))
    for key, fingerprint, chunk, audio, url, start, end, flag, characters, count in zip(
        *columns, starts, ends, flags, counts, recorded, strict=True
    ):
        if not 0 <= start < end <= limit:
            raise ValueError("an entry's block is not in the lockfile")
        outputs: dict[str, Output] | None = None
        if count >= 0:
            outputs = dict(
                zip(names[done : done + count], digests[done : done + count], strict=True)
            )
            done += count
        if flag > 2:  # a chunk, audio digest or url left out
            chunk = None if flag & 4 else chunk
            audio = None if flag & 8 else audio
            url = None if flag & 16 else url
        entry = new(IndexedEntry)
        entry.__dict__.update(
            {
                "state": _STATES[flag & 3],
                "fingerprint": fingerprint,
                "characters": characters,
                "chunk": chunk,
                "audio_digest": audio,
                "url": url,
                "outputs": outputs,
                "_block": (key, source, start, end),
            }
        )
        items[key] = entry
    source.entries = dict(items)
    return LockState(items)
