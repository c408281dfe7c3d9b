"""The container of voxform's caches in `.voxform/`: a header, then records as numbers and
strings, checked before anything in it is believed.

A cache is derived state: when it is damaged (truncated, bytes edited), foreign (another
project, another voxform or render version, another byte order) or unreadable, it is
ignored, as if there were none, and written again at the end of the command. It is never
unpickled or unmarshalled (a planted file must not run code): the body is a table of
64-bit integers and a table of strings, and the header carries the body's sha256.

Reading must be fast at 100,000 items: the numbers are one array read at once, the strings
one decode, and a string is cut out of that text only when a record that holds it is read.

    voxform-cache\\n
    {"kind":..., "identity":..., "order":"little", "keys":K, "ints":I, "strings":S,
     "text":T, "sha256":...}\\n
    K bytes of keys (32 each) | I int64 | S + 1 int64: where each string begins in the text,
    in code points, and where the last ends | T bytes: the strings one after another, UTF-8
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
from array import array
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import TypeVar, cast

from voxform.files import UnsafeFileError, write_atomic
from voxform.reading import FileTooLargeError, read_regular

T = TypeVar("T")

MAGIC = b"voxform-cache\n"
KEY_BYTES = 32
MAX_CACHE_BYTES = 1 << 30  # a cache bigger than this is not ours: it is ignored
_BATCH = 4096  # strings encoded at once


class CacheTable:
    """Records being written: keys, integers and strings (each string stored once, unless
    it is said to be unique). Strings are encoded as they come, a batch at a time, so that
    a table of 100,000 records holds their bytes once and not their strings too."""

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.starts: list[int] = []  # where each key's record begins in `ints`
        self.ints = array("q")
        self.offsets = array("q", [0])  # where each string begins in the text, in code points
        self.chunks: list[bytes] = []  # the text, encoded
        self._pending: list[str] = []  # strings not encoded yet
        self._index: dict[str, int] = {}

    @property
    def count(self) -> int:
        """How many strings the table holds."""
        return len(self.offsets) - 1

    def record(self, key: bytes) -> None:
        """Begin the record of `key` (a 32-byte digest)."""
        self.keys.append(key)
        self.starts.append(len(self.ints))

    def number(self, value: int) -> None:
        self.ints.append(value)

    def text(self, value: str | None, *, unique: bool = False) -> None:
        """A string, or None (written as -1); `unique`: one no other record holds, so it
        is not looked for among those already stored."""
        if value is None:
            self.ints.append(-1)
            return
        index = None if unique else self._index.get(value)
        if index is None:
            index = self.count
            if not unique:
                self._index[value] = index
            self.offsets.append(self.offsets[-1] + len(value))
            self._pending.append(value)
            if len(self._pending) >= _BATCH:
                self.flush()
        self.ints.append(index)

    def flush(self) -> None:
        """Encode the strings not encoded yet."""
        if self._pending:
            self.chunks.append("".join(self._pending).encode("utf-8", "surrogatepass"))
            self._pending.clear()


class CacheReader:
    """A cache file read and checked: records by key, and its strings, -1 being None."""

    def __init__(
        self, keys: bytes, ints: array[int], text: str, offsets: array[int], digest: str = ""
    ) -> None:
        self.ints = ints
        self.digest = digest  # the sha256 of the body, as the header says (checked)
        self._text = text
        self._offsets = offsets  # string n is text[offsets[n]:offsets[n + 1]]
        self._shared: dict[int, object] = {}
        count = len(keys) // KEY_BYTES
        starts = ints[:count]  # the records' starts come first
        self.records = {  # a record's numbers follow the starts
            keys[i * KEY_BYTES : (i + 1) * KEY_BYTES]: count + starts[i] for i in range(count)
        }

    def text(self, index: int) -> str | None:
        """String `index` (None for -1); IndexError when there is none."""
        if index < 0:
            if index == -1:
                return None
            raise IndexError(index)
        offsets = self._offsets
        return self._text[offsets[index] : offsets[index + 1]]

    def size(self, index: int) -> int:
        """The length of string `index`; IndexError when there is none."""
        if index < 0:
            raise IndexError(index)
        offsets = self._offsets
        return offsets[index + 1] - offsets[index]

    def shared(self, index: int, build: Callable[[str], T]) -> T:
        """`build` of string `index`, made once for all the records that hold it (a voice's
        settings, the names of the digests)."""
        found = self._shared.get(index)
        if found is None:
            text = self.text(index)
            if text is None:
                raise ValueError("no string")
            found = self._shared[index] = build(text)
        return cast(T, found)


def write_cache(
    path: Path, root: Path, kind: str, identity: str, table: CacheTable
) -> tuple[str, bytes] | None:
    """Write `table` atomically at `path` (below `root`, through no symlink), and give the
    sha256 of its body and its keys (one after another); a cache that cannot be written is
    only a slower next command, so OSError is swallowed (and None given). The table is
    spent: its numbers are moved out as bytes (at 100,000 records they are some 20 MB, and
    a copy of them less is that much less memory at the command's peak)."""
    table.flush()
    count = len(table.starts) + len(table.ints)
    numbers = table.ints.tobytes()
    del table.ints[:]
    starts = array("q", table.starts).tobytes()  # the records' starts come first
    parts = [b"".join(table.keys), starts, numbers, table.offsets.tobytes(), *table.chunks]
    body = hashlib.sha256()
    for part in parts:
        body.update(part)
    header = {
        "kind": kind,
        "identity": identity,
        "order": sys.byteorder,
        "keys": len(parts[0]),
        "ints": count,
        "strings": table.count,
        "text": sum(map(len, table.chunks)),
        "sha256": body.hexdigest(),
    }
    head = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    try:
        write_atomic(path, [head, *parts], durable=False, root=root)
    except OSError:  # UnsafeFileError (a planted link) is one too
        return None
    return str(header["sha256"]), parts[0]


def read_cache(path: Path, kind: str, identity: str) -> CacheReader | None:
    """The cache at `path` if it is whole, of `kind` and made for `identity`; else None.
    A symlink is not followed."""
    try:
        data = read_regular(path, MAX_CACHE_BYTES, "cache", follow=False)
    except (OSError, UnsafeFileError, FileTooLargeError):
        return None
    with contextlib.suppress(ValueError, TypeError, KeyError, IndexError, OverflowError):
        return _checked(data, kind, identity)
    return None


def read_keys(path: Path, kind: str, identity: str) -> tuple[str, bytes] | None:
    """The body's digest and the keys (32 bytes each, one after another) of the cache at
    `path` if it is whole, of `kind` and made for `identity`, as `read_cache` checks it;
    else None. Its numbers and strings are not read: a record is known to be there."""
    try:
        data = read_regular(path, MAX_CACHE_BYTES, "cache", follow=False)
    except (OSError, UnsafeFileError, FileTooLargeError):
        return None
    with contextlib.suppress(ValueError, TypeError, KeyError, IndexError, OverflowError):
        found = _whole(data, kind, identity)
        if found is not None:
            return found[0], bytes(found[1][0])
    return None


def _whole(data: bytes, kind: str, identity: str) -> tuple[str, list[memoryview]] | None:
    """The body's digest and its four parts (keys, numbers, offsets, text) when `data` is
    a whole cache of `kind` made for `identity`."""
    if not data.startswith(MAGIC):
        return None
    end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC) : end])
    if not isinstance(header, dict):
        return None
    if (header.get("kind"), header.get("identity"), header.get("order")) != (
        kind,
        identity,
        sys.byteorder,
    ):
        return None
    strings = header["strings"]
    if type(strings) is not int or strings < 0:
        return None
    sizes = [header["keys"], header["ints"] * 8, (strings + 1) * 8, header["text"]]
    if not all(type(n) is int and n >= 0 for n in sizes) or sizes[0] % KEY_BYTES:
        return None
    body = memoryview(data)[end + 1 :]
    if len(body) != sum(sizes) or hashlib.sha256(body).hexdigest() != header["sha256"]:
        return None
    return str(header["sha256"]), list(_split(body, sizes))


def _checked(data: bytes, kind: str, identity: str) -> CacheReader | None:
    whole = _whole(data, kind, identity)
    if whole is None:
        return None
    digest, pieces = whole
    sizes = [len(piece) for piece in pieces]
    ints, offsets = array("q"), array("q")
    ints.frombytes(pieces[1])
    offsets.frombytes(pieces[2])
    count = sizes[0] // KEY_BYTES
    # Where each record begins must be a place in it; a record's own numbers may be any
    # (a digest's bytes), and a string's index below -1 is refused when it is read.
    if len(ints) < count or min(ints[:count], default=0) < 0:
        return None
    text = _decode(pieces[3])
    if offsets[0] != 0 or offsets[-1] != len(text):
        return None
    if any(a > b for a, b in pairwise(offsets)):
        return None
    return CacheReader(bytes(pieces[0]), ints, text, offsets, digest)


def _decode(data: memoryview) -> str:
    try:
        return str(data, "utf-8")
    except UnicodeDecodeError:  # a lone surrogate (a message quoting one)
        return str(data, "utf-8", "surrogatepass")


def _split(body: memoryview, sizes: list[int]) -> Iterator[memoryview]:
    begin = 0
    for size in sizes:
        yield body[begin : begin + size]
        begin += size
