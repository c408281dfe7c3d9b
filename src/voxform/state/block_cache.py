"""The chunks of each source file kept as one block in `.voxform/block-cache`, so that an
unchanged file costs one lookup: its chunks' ids and digests are not worked out again, and
its items' render keys are not spelt and hashed again.

A block is found by a key: the sha256 of everything but the lockfile that makes a file's
items and their render keys (state/render_cache.py). That is the key's head for the file
(the source's settings, voice, target, template and the files it includes, lexicon, the
render version: RenderCache.head), the file's path and id prefix, how it is split, and its
text (the source cache's key of it: state/source_cache.py, which trusts a file's stat as
git does and re-reads a racily clean one). A block keeps, for each chunk in order, its id's
key (`p2.5`), its digest and its item's render key.

When each of its items' results is plain, with fingerprints for its target's engine, a block
tells them too (the engine, and each result's characters, fingerprint and audio digest:
state/late_rendered.py), and a plan reads no render cache record for the file. It keeps its
file's path: when the file is edited, the block it had before tells the results of the
paragraphs whose render keys it has, and the new ones are rendered without looking for them.

The ids are aligned with those the lockfile knows under the prefix (render/ids.py): a block
keeps the digest of the ids and chunks it was made with, and is taken when they are the
same, or when they are exactly the block's own ids and chunks and none of its items' render
keys read parts' ids (what an apply records of the file: `align` gives back the same keys
for them, and the render keys are the same, as they read no other ids). So the plan after
an apply finds the blocks that the apply made.

As the other caches, the file holds the last command's blocks and no others, and one that
is damaged, foreign or stale is ignored and rebuilt (state/cachefile.py).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from pathlib import Path

from voxform.manifest.model import SourceSpec
from voxform.render.model import Item, Prints
from voxform.state.cachefile import CacheTable, read_cache, write_cache
from voxform.state.render_cache import RenderCache
from voxform.state.render_records import engine_parts, prints_bytes
from voxform.state.source_cache import SourceCache

BLOCK_CACHE = "block-cache"
KIND = "blocks 3"
_PREFIX = "sha256:"
_RAW = 32  # a sha256's bytes
_INTS = 2 * _RAW // 8  # a chunk's digest and its render key, as int64
# A block as read: its id keys, chunk digests and render keys, and as stored (the keys
# spelt in one string, the digests and render keys in one run of bytes, the digest of the
# lockfile's ids it was made with, whether it is partless), to be written back, and what it
# tells of its plain results (the engine, the characters, the fingerprints' bytes) if it does
_Told = tuple[str, list[int], bytes]
_Block = tuple[list[str], list[str], list[bytes], str, bytes, str, int, "_Told | None"]
_Kept = tuple[list[bytes], str, bytes, str, int, "_Told | None"]  # all but keys, digests
_Asked = tuple[bytes, str]  # a file's block key, and the digest of the lockfile's ids for it


class BlockCache:
    """A BlockMemo (render/sources.py) over `.voxform/block-cache`."""

    def __init__(
        self, path: Path, root: Path, *, identity: str, texts: SourceCache, renders: RenderCache
    ) -> None:
        self.path = path
        self.root = root
        self.identity = identity
        self.texts = texts
        self.renders = renders
        self.reader = read_cache(path, KIND, identity)
        self.count = len(self.reader.records) if self.reader is not None else -1
        self._asked: dict[str, _Asked | None] = {}  # file -> its block's key (None: none)
        self._found: dict[str, _Block] = {}  # file -> its block as read
        self.blocks: dict[bytes, tuple[list[Item], str]] = {}  # key -> the items, ids' digest
        self.kept: dict[bytes, _Kept] = {}  # block key -> the block read for its items
        self.hits = 0
        self.told: set[bytes] = set()  # the blocks that told their results (no record read)
        self._before: dict[str, bytes] | None = None  # file -> its block read, when asked

    def chunk_ids(
        self, source: SourceSpec, path: Path, rel: str, prefix: str, known: Mapping[str, str]
    ) -> tuple[list[str], list[str]] | None:
        """The id keys and digests of the chunks of the file at `path`, as the block of
        what makes them (its text among them) keeps them; None when there is none."""
        key = self._key(source, path, rel, prefix)
        name = str(path)
        spelt = f"{sorted(known.items())!r}"
        ids = hashlib.sha256(spelt.encode("utf-8", "surrogatepass")).hexdigest()
        self._asked[name] = None if key is None else (key, ids)
        if key is None or self.reader is None:
            return None
        found = self._read(key)
        if found is None:
            return None
        if found[5] != ids and not (
            found[6] == 1
            and len(known) == len(found[0])
            and all(
                known.get(f"{prefix}/{k}") == d for k, d in zip(found[0], found[1], strict=True)
            )
        ):
            return None  # the lockfile's ids are neither those it was made with nor its own
        self._found[name] = found
        return found[0], found[1]

    def made(self, path: Path, items: list[Item]) -> None:
        """`items`, in order, are the items of the file at `path` (chunk_ids was asked for
        it): when they came from its block, the render cache is told their keys."""
        name = str(path)
        asked = self._asked.pop(name, None)
        if asked is None:
            return
        key = asked[0]
        found = self._found.pop(name, None)
        if found is not None and len(found[2]) == len(items):
            told = found[7]
            if told is not None and told[0] == self.renders.engine_of(items[0].settings.target):
                # its results as it tells them: the render cache is not read for them
                self.renders.tell(items, (found[2], told[1], told[2]), told[0])
                self.told.add(key)
            else:
                for item, render_key in zip(items, found[2], strict=True):
                    self.renders.given[id(item)] = (item, render_key)
            self.hits += 1
            self.kept[key] = found[2:]
        elif items:
            self._told_before(items)
        self.blocks[key] = (items, asked[1])

    def _told_before(self, items: list[Item]) -> None:
        """The items of an edited file (its block not found) whose render keys the file's
        block before the edit has are told by it; when some are, the others are new (an
        edited paragraph), and the render cache renders them without looking for them."""
        rel = items[0].source_file
        if self._before is None:
            self._before = self._blocks_by_file()
        previous = self._before.get(rel) if rel is not None else None
        found = self._read(previous) if previous is not None else None
        told = found[7] if found is not None else None
        if found is None or told is None:
            return
        engine, characters, raw = told
        if engine != self.renders.engine_of(items[0].settings.target):
            return
        at = {render_key: n for n, render_key in enumerate(found[2])}
        where = [at.get(self.renders.key(item) or b"") for item in items]
        if all(n is None for n in where):
            return  # none kept: each is looked for in the render cache
        run: list[tuple[Item, int]] = []
        for item, n in [*zip(items, where, strict=True), (None, None)]:
            if n is not None and item is not None:
                run.append((item, n))
                continue
            if run:
                chosen = [n for _, n in run]
                self.renders.tell(
                    [i for i, _ in run],
                    (
                        [found[2][n] for n in chosen],
                        [characters[n] for n in chosen],
                        b"".join(raw[n * 8 * _INTS : (n + 1) * 8 * _INTS] for n in chosen),
                    ),
                    engine,
                    some=True,
                )
                run = []
            if item is not None:
                self.renders.fresh[id(item)] = item

    def _blocks_by_file(self) -> dict[str, bytes]:
        """The key of the block read for each file (by its path in the project)."""
        reader = self.reader
        found: dict[str, bytes] = {}
        if reader is None:
            return found
        for key, at in reader.records.items():
            with contextlib.suppress(IndexError, ValueError):
                rel = reader.text(reader.ints[at + 5])
                if rel is not None:
                    found[rel] = key
        return found

    def expanded(self) -> None:
        """Let go of the file read: the expansion it was for is over (what save writes back
        of it is kept), and it is as big as the items' chunks' digests."""
        self.reader = None

    def unsaved(self) -> bool:
        """Whether `save` may write: not when each file's block was found, and no other."""
        return not self.hits == len(self.blocks) == self.count

    def save(self) -> None:
        """Write the blocks of this command's files whose items all have a render record
        (call after the render cache has learnt them), unless the file has just those."""
        if not self.unsaved():
            return
        table = CacheTable()
        results = self.renders.results
        for key in sorted(self.blocks):
            items, ids = self.blocks[key]
            kept = self.kept.get(key)
            if kept is not None:  # as it was read, if each of its results is still kept
                if key in self.told or all(k in results for k in kept[0]):
                    told = kept[5]
                    if told is None or told[0] != self.renders.engine_of(items[0].settings.target):
                        told = self._told(items, kept[0])
                    _write_block(table, key, items, kept[1], kept[3], kept[4], kept[2], told)
                continue
            render_keys = [self.renders.key(item) for item in items]
            if not all(k is not None and self.renders.result_of(k) for k in render_keys):
                continue  # a result not kept (a run-wide problem): the file is done item by item
            raw = b"".join(
                bytes.fromhex(item.chunk[len(_PREFIX) :]) + k
                for item, k in zip(items, render_keys, strict=True)
                if item.chunk is not None and k is not None
            )
            if len(raw) != len(items) * 2 * _RAW:
                continue
            spelt = "\n".join(item.id.rpartition("/")[2] for item in items)
            partless = 0 if any(self.renders.has_parts(item.id) for item in items) else 1
            told = self._told(items, [k for k in render_keys if k is not None])
            _write_block(table, key, items, spelt, ids, partless, raw, told)
        write_cache(self.path, self.root, KIND, self.identity, table)

    def _told(self, items: list[Item], render_keys: list[bytes]) -> _Told | None:
        """What the block of `items` tells of their results (late_rendered.py): their
        engine, characters and fingerprints; None unless each is plain, with fingerprints
        for the engine of its target."""
        engine = self.renders.engine_of(items[0].settings.target)
        kind, made_for = engine_parts(engine)
        characters: list[int] = []
        prints_of: list[Prints] = []
        result_of = self.renders.result_of
        for item, render_key in zip(items, render_keys, strict=True):
            result = result_of(render_key)
            if engine is None or result is None or result.problems or len(result.rendered) != 1:
                return None
            rendered = result.rendered[0]
            prints = rendered.prints
            if (
                rendered.warnings
                or rendered.legacy_input is not None
                or prints is None
                or type(rendered.characters) is not int
                or prints[0] != kind
                or prints[1] != made_for
                or (rendered.item is not item and rendered.item != item)
            ):
                return None
            characters.append(rendered.characters)
            prints_of.append(prints)
        raw = prints_bytes(prints_of)
        return None if engine is None or raw is None else (engine, characters, raw)

    def _key(self, source: SourceSpec, path: Path, rel: str, prefix: str) -> bytes | None:
        """The digest of everything but the lockfile that the items of the file at `path`
        and their render keys are made of; None when that cannot be known."""
        text = self.texts.text_key(path)
        head = self.renders.head(source.settings, source.location, rel)
        if text is None or head is None:
            return None
        spelt = f"{head}\0{len(rel)}:{rel}\0{len(prefix)}:{prefix}\0{source.split}\0{text.hex()}"
        return hashlib.sha256(spelt.encode("utf-8", "surrogatepass")).digest()

    def _read(self, key: bytes) -> _Block | None:
        reader = self.reader
        at = reader.records.get(key) if reader is not None else None
        if reader is None or at is None:
            return None
        try:
            count = reader.ints[at]
            spelt, ids = reader.text(reader.ints[at + 1]), reader.text(reader.ints[at + 2])
            partless, engine = reader.ints[at + 3], reader.text(reader.ints[at + 4])
            end = at + 6 + count * _INTS
            raw = reader.ints[at + 6 : end].tobytes()
            told = None
            if engine is not None:
                characters = reader.ints[end : end + count].tolist()
                prints = reader.ints[end + count : end + count + count * _INTS].tobytes()
                if len(characters) != count or len(prints) != count * _INTS * 8:
                    return None
                if count and min(characters) < 0:
                    return None
                told = (engine, characters, prints)
        except (IndexError, ValueError):
            return None
        keys = spelt.split("\n") if spelt is not None else []
        if count < 1 or len(keys) != count or len(raw) != count * _INTS * 8 or ids is None:
            return None
        digests = [_PREFIX + raw[i : i + _RAW].hex() for i in range(0, len(raw), 2 * _RAW)]
        renders = [raw[i + _RAW : i + 2 * _RAW] for i in range(0, len(raw), 2 * _RAW)]
        return keys, digests, renders, spelt or "", raw, ids, partless, told


def _write_block(
    table: CacheTable,
    key: bytes,
    items: list[Item],
    spelt: str,
    ids: str,
    partless: int,
    raw: bytes,
    told: _Told | None,
) -> None:
    """The block of `items` under `key`, as `_read` reads it: their count, id keys, the ids'
    digest, partlessness, the engine it tells for, its file, the chunks' digests and render
    keys, then (when it tells them) the results' characters and fingerprints."""
    table.record(key)
    table.number(len(items))
    table.text(spelt)
    table.text(ids)
    table.number(partless)
    table.text(None if told is None else told[0])
    table.text(items[0].source_file)
    table.ints.frombytes(raw)
    if told is not None:
        table.ints.extend(told[1])
        table.ints.frombytes(told[2])
