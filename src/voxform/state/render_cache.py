"""Rendered items kept in `.voxform/render-cache`, so that a plan renders only what changed.

An item's result is found by a key: the sha256 of everything its render reads. That is the
item itself (id, text, chunk, file, locations, settings with vars), the voice and target its
settings name, its template's name, path and place in the manifest, the bytes of the
template and of every file it includes, imports or extends (render/dependencies.py), the
lexicon, RENDER_VERSION with the code of the libraries rendering runs (render/version.py),
and for a source chunk, which may be cut into parts, the lockfile's ids and chunks of parts
of it (the part ids are aligned with them, render/ids.py). The engine's version is not in
it: rendering does not read it (the plan's fingerprint does, afresh each time).

A plain result keeps its fingerprint and audio digest too, with the provider and engine
they are for (a Printer works them out: the plan's functions, for the target's engine), so
a plan does not digest again the SSML of an item whose render it did not do again.

A template that includes a name computed as it renders is not cached. The file holds the
results of the last command's items and no others, so it stays the size of the project;
except that when few of them are new (an edit), they are written to a second file over it
(`render-cache-delta`, made for that file's digest and ignored beside any other), and the
first keeps the records of items gone, until the two differ by a tenth of the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import is_
from pathlib import Path
from typing import Protocol

from voxform.manifest.model import Project
from voxform.render.assemble import with_prints
from voxform.render.items import render_items
from voxform.render.model import Item, Prints, RenderedItem
from voxform.render.results import ItemResult
from voxform.state import render_save
from voxform.state.cachefile import CacheReader, CacheTable, read_cache, write_cache
from voxform.state.late_rendered import LateRendered, Told, ToldBlock
from voxform.state.render_held import noted
from voxform.state.render_keys import RenderKeys
from voxform.state.render_keys import project_identity as project_identity
from voxform.state.render_records import (
    copy_plain,
    decode,
    decode_plains,
    encode,
    engine_parts,
    engine_spelt,
    keepable,
    plain_record,
    plain_string,
)
from voxform.state.template_includes import INCLUDES, TemplateIncludes

RENDER_CACHE = "render-cache"
DELTA = "-delta"  # the second file's name: the first's and this
DELTA_SHARE = 10  # records new or gone, at most a tenth of the first file's, go in a delta
DELTA_MIN = 1000  # a first file of fewer records is always written whole
KIND = "render 4"  # the layout of a record (render_records.py); a change of it is a new kind
# The fields of an Item that key() reads: a test checks that Item has no others.
ITEM_FIELDS = (
    "id",
    "text",
    "settings",
    "location",
    "text_location",
    "source_file",
    "chunk",
    "splittable",
)


class Printer(Protocol):
    """What works out an item's fingerprints (project.py: the plan's, for its target)."""

    def engine(self, target: str) -> tuple[str, str | None] | None:
        """The provider kind and engine version of target `target`; None: no fingerprints
        are kept for its items (its engine's version is not for free)."""
        ...

    def prints(self, rendered: RenderedItem) -> Prints | None:
        """`rendered`'s fingerprints, for its target's engine (None as for `engine`)."""
        ...


class RenderCache(RenderKeys):
    """A RenderMemo over `.voxform/render-cache`: `get` answers an item whose key is found,
    `put` learns one, `save` writes what this command's items rendered to."""

    def __init__(
        self,
        path: Path,
        project: Project,
        known: Mapping[str, str],
        *,
        identity: str,
        printer: Printer | None = None,
    ) -> None:
        super().__init__(project, known, TemplateIncludes(path.with_name(INCLUDES), project.root))
        self.path = path
        self.printer = printer
        self._engines: dict[str, str | None] = {}  # target -> engine_spelt, or None
        self.project = project
        self.identity = identity
        self.delta_path = path.with_name(path.name + DELTA)
        self.pair = (path, self.delta_path)  # as render_held.py notes what they hold
        self.known = known
        # The file is read when first needed: not at all when every item is told by a block
        self._files: tuple[CacheReader | None, CacheReader | None] | None = None
        # id(a block's first item) -> its items and their results, as the block told them
        self.told: dict[int, tuple[list[Item], list[ItemResult]]] = {}
        self.late: list[_Late] = []  # the blocks told, until they are settled (save)
        self.some: dict[bytes, ItemResult] = {}  # render key -> a result told, of a few
        self.fresh: dict[int, Item] = {}  # id(item) -> it: new, not looked for in the file
        self.read_delta: dict[bytes, int] = {}  # key -> where its record is in the delta
        self.results: dict[bytes, ItemResult] = {}
        self.items: dict[bytes, Item] = {}
        self.learnt = False
        self.read: dict[bytes, int] = {}  # key -> where its record is in the file read

    @property
    def reader(self) -> CacheReader | None:
        """The file, read and checked when first asked for (None: none that is good)."""
        return self._read()[0]

    @property
    def delta(self) -> CacheReader | None:  # the records new since the file was written whole
        return self._read()[1]

    def _read(self) -> tuple[CacheReader | None, CacheReader | None]:
        if self._files is None:
            reader = read_cache(self.path, KIND, self.identity)
            over = self.over(reader.digest) if reader is not None else None
            delta = read_cache(self.delta_path, KIND, over) if over is not None else None
            self._files = (reader, delta)
        return self._files

    def tell(self, items: list[Item], told: Told, engine: str, *, some: bool = False) -> None:
        """The results of `items` (a block's, in order) as the block tells them, for
        `engine` (as `engine_spelt` spells it): get_many answers them without the file.
        `some`: a few items of a file (result_of answers them too)."""
        kind, made_for = engine_parts(engine)
        results = ToldBlock(items, told, kind, made_for, self, self.project).results()
        if items:
            self.told[id(items[0])] = (items, results)
        self.late.append((items, results, told[0]))
        if some:
            self.some.update(zip(told[0], results, strict=True))

    def result_of(self, key: bytes) -> ItemResult | None:
        """The result of render key `key` (rendered, read, or told with a few others)."""
        return self.results.get(key) or self.some.get(key)

    def settle(self, key: bytes, item: Item) -> tuple[CacheReader, int] | RenderedItem:
        """Where the request and digests of a told result are: the record of `key` in the
        file, or (none there) `item` rendered again (Settler, late_rendered.py)."""
        reader, delta = self._read()
        for source in (delta, reader):
            start = source.records.get(key) if source is not None else None
            if source is not None and start is not None:
                kept = plain_string(source, start)
                if kept is not None:
                    return source, kept
        self.learnt = True  # the file is written again, with it
        return self._render_again([item])[0]

    def _render_again(self, items: list[Item]) -> list[RenderedItem]:
        """`items`, told plain by their blocks, rendered again (their records are gone)."""
        rendered = render_items(self.project, items, self.known)[0]
        if [r.item.id for r in rendered] != [i.id for i in items]:
            raise ValueError("a result told plain by its block is not plain")
        return rendered

    def get(self, item: Item) -> ItemResult | None:
        key = self.key(item)
        if key is None or self.reader is None:
            return None
        reader, delta = self.reader, self.delta
        start = delta.records.get(key) if delta is not None else None
        if start is not None and delta is not None:
            reader = delta  # the newer record
        else:
            start = reader.records.get(key)
            if start is None:
                return None
        engine = self.engine_of(item.settings.target)
        try:
            result = decode(self.project, reader, start, item, engine)
        except (IndexError, ValueError, TypeError, KeyError):  # a record that is not one
            return None
        self.results[key] = result
        self.items[key] = item
        (self.read_delta if reader is delta else self.read)[key] = start
        rendered = result.rendered
        if engine is not None and rendered and rendered[0].prints is None and _plain(result):
            result = self._printed(key, result)  # another engine's: worked out, written anew
        return result

    def get_many(self, items: list[Item]) -> list[ItemResult | None]:
        """[get(item) for item in items], the plain records of the file read in one loop,
        those told by blocks (`tell`) without it."""
        if not self.told:
            return self._get_many(items)
        told = self.told
        found: list[ItemResult | None] = []
        rest = []
        index, count = 0, len(items)
        while index < count:  # a block's run of items at once
            given = told.get(id(items[index]))
            if given is not None:
                end = index + len(given[0])
                if all(map(is_, items[index:end], given[0])) and end <= count:
                    found.extend(given[1])
                    index = end
                    continue
            rest.append(index)
            found.append(None)
            index += 1
        fresh = self.fresh
        rest = [i for i in rest if fresh.get(id(items[i])) is not items[i]]
        if rest:
            for index, result in zip(rest, self._get_many([items[i] for i in rest]), strict=True):
                found[index] = result
        return found

    def _get_many(self, items: list[Item]) -> list[ItemResult | None]:
        reader = self.reader
        found: list[ItemResult | None] = [None] * len(items)
        if reader is None:
            return found
        delta = self.delta.records if self.delta is not None else {}
        given, records = self.given, reader.records
        asked: dict[str, tuple[list[int], list[int], list[Item], list[bytes]]] = {}
        for index, item in enumerate(items):
            known = given.get(id(item))
            key = known[1] if known is not None and known[0] is item else self.key(item)
            if key is None:
                continue
            start = records.get(key) if key not in delta else None
            if start is None:
                if key in delta:
                    found[index] = self.get(item)  # the newer record, in the delta
                continue
            target = item.settings.target
            wanted = asked.get(target)
            if wanted is None:
                wanted = asked[target] = ([], [], [], [])
            wanted[0].append(index)
            wanted[1].append(start)
            wanted[2].append(item)
            wanted[3].append(key)
        results, kept, read = self.results, self.items, self.read
        for target, (indexes, starts, asked_items, keys) in asked.items():
            engine = self.engine_of(target)
            decoded = decode_plains(self.project, reader, starts, asked_items, engine)
            for index, start, item, key, result in zip(
                indexes, starts, asked_items, keys, decoded, strict=True
            ):
                if result is None:  # not plain (or not a record): as get reads it
                    found[index] = self.get(item)
                    continue
                results[key] = result
                kept[key] = item
                read[key] = start
                if engine is not None and result.rendered[0].prints is None:
                    result = self._printed(key, result)  # another engine's: worked out anew
                found[index] = result
        return found

    def put(self, item: Item, result: ItemResult) -> ItemResult:
        key = self.key(item)
        if key is not None and keepable(item, result):
            self.items[key] = item
            result = self._printed(key, result)
        return result

    def _printed(self, key: bytes, result: ItemResult) -> ItemResult:
        """`result`, with its fingerprints when it is plain and the printer gives them,
        learnt under `key`."""
        if self.printer is not None and _plain(result):
            prints = self.printer.prints(result.rendered[0])
            if prints is not None and prints is not result.rendered[0].prints:
                result = ItemResult((with_prints(result.rendered[0], prints),), ())
        self.results[key] = result
        self.read.pop(key, None)
        self.read_delta.pop(key, None)
        self.learnt = True
        return result

    def engine_of(self, target: str) -> str | None:
        """The engine the fingerprints of `target`'s items are for, as records spell it."""
        if target not in self._engines:
            facts = self.printer.engine(target) if self.printer is not None else None
            self._engines[target] = None if facts is None else engine_spelt(*facts)
        return self._engines[target]

    def save(self) -> None:
        """Write the results of this command's items, when they are not what the files
        have: the few new since the file was written whole in a delta over it, else all.
        The results told by blocks are looked for in the files first (late_rendered.py;
        render_save.py has the ways of it)."""
        render_save.save(self, KIND, DELTA_SHARE, DELTA_MIN)

    def unsaved(self) -> bool:
        """Whether `save` may write: not when every result was told by a block, and the
        note beside the files says they hold each (render_held.py: nothing of them read)."""
        told = [late[2] for late in self.late]
        return (
            not told or self._files is not None or self.learnt or not noted(self.pair, self, told)
        )

    def over(self, digest: str) -> str:
        """The identity of a delta over the file whose body has sha256 `digest`."""
        return f"{self.identity} over {digest}"

    def _settle_told(self) -> None:
        """Each result told by a block is found in the files, and its record (the render of
        its key, as what the block tells is) copied as it is; one the files have no record
        of is written anew, made again (all such at once)."""
        reader, delta = self._read()
        in_delta = delta.records if delta is not None else {}
        in_file = reader.records if reader is not None else {}
        results, kept, read, read_delta = self.results, self.items, self.read, self.read_delta
        absent: list[LateRendered] = []
        for items, told, keys in self.late:
            for key, item, result in zip(keys, items, told, strict=True):
                results[key] = result
                kept[key] = item
                start = in_delta.get(key)
                if start is not None:
                    read_delta[key] = start
                    continue
                start = in_file.get(key)
                if start is not None:
                    read[key] = start
                    continue
                self.learnt = True  # written anew
                late = result.rendered[0]
                if isinstance(late, LateRendered) and not late.settled():
                    absent.append(late)
        self.late = []
        if absent:
            again = self._render_again([r.item for r in absent])
            for late, rendered in zip(absent, again, strict=True):
                late.settle(rendered)

    def _write(self, path: Path, identity: str, keys: list[bytes]) -> tuple[str, bytes] | None:
        """The records of `keys` written at `path` as a cache made for `identity` (the
        sha256 of its body and its keys; None when it could not be written)."""
        table = CacheTable()
        sources = ((self.reader, self.read), (self.delta, self.read_delta))
        # What a new plain record holds is taken out first, in the order the items were
        # rendered, which is the order they lie in memory: in the order of the keys, every
        # record's objects are a cache miss (twice the time at 100,000 records).
        items, results, read, read_delta = self.items, self.results, self.read, self.read_delta
        plain = {
            key: plain_record(items[key], results[key])
            for key in keys
            if key not in read and key not in read_delta
        }
        for key in sorted(keys):  # the same bytes whatever order items were asked in
            table.record(key)
            # A record read from a file is written as it was read (decoded, it was good):
            # after one edit, 99,999 records of 100,000 are copied, not made again.
            for reader, read in sources:
                if reader is not None and key in read and copy_plain(table, reader, read[key]):
                    break
            else:
                encode(table, items[key], results[key], plain.pop(key, None))
        return write_cache(path, self.project.root, KIND, identity, table)


# A block told: its items, their results and their render keys (late_rendered.py)
_Late = tuple[list[Item], list[ItemResult], list[bytes]]


def _plain(result: ItemResult) -> bool:
    """One request, no problem, no warning: a result whose fingerprints can be kept."""
    return not result.problems and len(result.rendered) == 1 and not result.rendered[0].warnings
