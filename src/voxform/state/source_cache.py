"""Source files' paragraphs kept in `.voxform/source-cache`, so that a plan re-reads only
the text files that changed, and re-parses only those whose text changed.

As git's index does, a file's stat (size, mtime, ctime, inode, device) vouches for its
text: a file whose stat is as recorded is not read at all. One whose stat changed (a CI
checkout, a `touch`) is read and its text digested; paragraphs are kept by that digest, so
it is parsed again only when its text is new. An entry whose mtime was within a clock tick
of the cache's opening, before any file was read, is kept without its stat ("racily clean":
an edit in the same tick would leave the stat as it was; state/racy.py), so that file is
read again next time.

A large cache is not written again for a few files read (an edit): at most one in
REREAD_SHARE of its files, of a cache of REREAD_MIN records or more. Their entries stay as
they were, which their stats no longer match, so they are read (and parsed) again next time:
a few files, where writing the cache is all of them.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from voxform.reading import FileTooLargeError, read_text
from voxform.state.cachefile import CacheReader, CacheTable, read_cache, write_cache
from voxform.state.racy import settled

SOURCE_CACHE = "source-cache"
REREAD_SHARE = 100  # files read again, at most this share of the cache's, leave it unwritten
REREAD_MIN = 1000  # records of a cache that is always written when it learnt anything
KIND = "sources 2"
_Stat = tuple[int, int, int, int, int]


class SourceCache:
    """A SourceMemo (render/sources.py) over `.voxform/source-cache`."""

    def __init__(self, path: Path, root: Path, *, identity: str, limit: int) -> None:
        self.path = path
        self.root = root
        self.identity = identity
        self.limit = limit  # the most bytes a text source may hold (sources.py reads no more)
        self.reader = read_cache(path, KIND, identity)
        self.stats: dict[str, tuple[_Stat, bytes]] = {}  # file -> its stat, its text's key
        self.texts: dict[bytes, list[str]] = {}  # text key -> paragraphs
        self.pending: dict[str, _Stat] = {}  # file -> its stat before it was read
        self.learnt = False
        self.reread = 0  # files whose stat did not vouch for their text
        self.opened = time.time_ns()  # every file it learns is read after this

    def paragraphs(self, path: Path, markdown: bool) -> list[str] | None:
        """The paragraphs of the file at `path` if its text is one this cache knows; None
        (and nothing learnt) when it must be read and parsed, or cannot be read."""
        name = str(path)
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        now: _Stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
        self.pending[name] = now
        if self.reader is not None:
            recorded = self._stat(name)
            if recorded is not None and recorded[0] == now:
                found = self._paragraphs(recorded[1])
                if found is not None:
                    self._keep(name, now, recorded[1], found)
                    return found
        self.reread += 1
        try:
            text = read_text(path, self.limit)
        except (OSError, ValueError, FileTooLargeError):  # sources.py reads it again, and tells
            return None
        key = _text_key(text, markdown)
        found = self._paragraphs(key)
        if found is not None:
            self._keep(name, now, key, found)
            self.learnt = True  # a new stat
        return found

    def learn(self, path: Path, text: str, markdown: bool, paragraphs: list[str]) -> None:
        """`paragraphs` are what `text`, read from `path` just now, parses into."""
        now = self.pending.get(str(path))
        if now is not None:
            self._keep(str(path), now, _text_key(text, markdown), paragraphs)
            self.learnt = True

    def text_key(self, path: Path) -> bytes | None:
        """The key of the text of the file at `path` whose paragraphs this cache gave or
        learnt in this command; None when it did neither."""
        found = self.stats.get(str(path))
        return None if found is None else found[1]

    def unsaved(self) -> bool:
        """Whether `save` would write: not what the file holds already, nor for a few files
        read again (an edit) of a large cache (they are read again next time: cheaper)."""
        known = len(self.reader.records) if self.reader is not None else -1
        if not self.learnt and known == len(self.stats) + len(self.texts):
            return False
        return known < REREAD_MIN or self.reread * REREAD_SHARE > len(self.stats)

    def save(self) -> None:
        """Write what this command read, if it is not what the file holds."""
        if not self.unsaved():
            return
        opened = self.opened
        table = CacheTable()
        for name, (stat, key) in self.stats.items():
            table.record(_name_key(name))
            table.text(name)
            table.text(key.hex())
            for value in stat if settled(stat[1], opened) else (-1, -1, -1, -1, -1):
                table.number(value)
        for key, paragraphs in self.texts.items():
            table.record(key)
            table.number(len(paragraphs))
            for paragraph in paragraphs:
                table.text(paragraph)
        write_cache(self.path, self.root, KIND, self.identity, table)

    def _keep(self, name: str, stat: _Stat, key: bytes, paragraphs: list[str]) -> None:
        self.stats[name] = (stat, key)
        self.texts[key] = paragraphs

    def _stat(self, name: str) -> tuple[_Stat, bytes] | None:
        reader = self.reader
        at = reader.records.get(_name_key(name)) if reader is not None else None
        if reader is None or at is None:
            return None
        try:
            if reader.text(reader.ints[at]) != name:
                return None
            key = bytes.fromhex(reader.text(reader.ints[at + 1]) or "")
            ints = reader.ints[at + 2 : at + 7]
            return (ints[0], ints[1], ints[2], ints[3], ints[4]), key
        except (IndexError, ValueError):
            return None

    def _paragraphs(self, key: bytes) -> list[str] | None:
        found = self.texts.get(key)
        if found is not None or self.reader is None:
            return found
        return _read_paragraphs(self.reader, key)


def _read_paragraphs(reader: CacheReader, key: bytes) -> list[str] | None:
    at = reader.records.get(key)
    if at is None:
        return None
    try:
        count = reader.ints[at]
        found = [reader.text(i) for i in reader.ints[at + 1 : at + 1 + count]]
    except (IndexError, ValueError):
        return None
    if len(found) != count or not all(isinstance(p, str) for p in found):
        return None
    return [p for p in found if p is not None]


def _name_key(name: str) -> bytes:
    return hashlib.sha256(b"file\0" + name.encode("utf-8", "surrogatepass")).digest()


def _text_key(text: str, markdown: bool) -> bytes:
    kind = b"markdown\0" if markdown else b"plain\0"
    return hashlib.sha256(kind + text.encode("utf-8", "surrogatepass")).digest()
