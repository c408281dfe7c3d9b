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

import contextlib
import hashlib
from collections.abc import Mapping
from dataclasses import astuple, replace
from pathlib import Path
from typing import Protocol

from voxform.errors import Location
from voxform.files import remove_file
from voxform.manifest.model import BUILTIN_TEMPLATE, Project, Settings
from voxform.render.assemble import with_prints
from voxform.render.dependencies import TemplateFiles
from voxform.render.model import Item, Prints, RenderedItem
from voxform.render.render import ItemResult
from voxform.render.templates import make_environment
from voxform.render.version import render_identity
from voxform.state.cachefile import CacheTable, read_cache, write_cache
from voxform.state.render_records import (
    copy_plain,
    decode,
    decode_plains,
    encode,
    engine_spelt,
    plain_record,
)

RENDER_CACHE = "render-cache"
DELTA = "-delta"  # the second file's name: the first's and this
DELTA_SHARE = 10  # records new or gone, at most a tenth of the first file's, go in a delta
DELTA_MIN = 1000  # a first file of fewer records is always written whole
KIND = "render 4"  # the layout of a record (render_records.py); a change of it is a new kind
_RUN_WIDE = "steps over all items"  # sandbox.py's budget of a whole run, spent in order
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


def project_identity(project: Project) -> str:
    """Which project and which voxform rendering a cache was made for."""
    spelt = f"{len(project.name)}:{project.name}\0{project.root.resolve()}\0{render_identity()}"
    return hashlib.sha256(spelt.encode("utf-8", "surrogatepass")).hexdigest()


class RenderCache:
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
        self.path = path
        self.printer = printer
        self._engines: dict[str, str | None] = {}  # target -> engine_spelt, or None
        self.project = project
        self.identity = identity
        self.files = TemplateFiles(project.root, make_environment(project.root))
        self.reader = read_cache(path, KIND, identity)
        self.delta_path = path.with_name(path.name + DELTA)
        self.delta = (  # the records new since the file was written whole, if any
            read_cache(self.delta_path, KIND, _over(identity, self.reader.digest))
            if self.reader is not None
            else None
        )
        self.read_delta: dict[bytes, int] = {}  # key -> where its record is in the delta
        self.results: dict[bytes, ItemResult] = {}
        self.items: dict[bytes, Item] = {}
        self.learnt = False
        self.read: dict[bytes, int] = {}  # key -> where its record is in the file read
        # id(item) -> the item and its key, known without spelling it again (the block
        # cache's, or worked out once): the item is held, so its id is not reused meanwhile
        self.given: dict[int, tuple[Item, bytes]] = {}
        self._settings: dict[int, tuple[Settings, str | None]] = {}
        self._places: dict[int, tuple[Location, str]] = {}
        self._heads: dict[
            tuple[int, int, int], tuple[Settings, Location, Location, str | None]
        ] = {}
        self._world = _spell((render_identity(), *map(astuple, project.lexicon)))
        self._parts: dict[str, list[tuple[str, str]]] = {}  # item id -> its parts' lock entries
        for known_id, chunk in known.items():
            parent, dash, key = known_id.rpartition("-")
            if dash and key.replace(".", "", 1).isdigit():
                self._parts.setdefault(parent, []).append((known_id, chunk))

    def key(self, item: Item) -> bytes | None:
        """The digest of everything `item`'s render reads; None when that cannot be known."""
        given = self.given.get(id(item))
        if given is not None and given[0] is item:
            return given[1]
        head = self._head(item.settings, item.location, item.text_location)
        if head is None:
            return None
        parts = self._parts.get(item.id) if item.splittable else None
        item_id, text, source, chunk = item.id, item.text, item.source_file, item.chunk
        spelt = (  # one f-string, not a join of what helpers spell: 100,000 keys a second
            f"{head}\0{len(item_id)}:{item_id}\0{len(text)}:{text}"
            f"\0{'-' if source is None else f'{len(source)}:{source}'}"
            f"\0{'-' if chunk is None else f'{len(chunk)}:{chunk}'}"
            f"\0{'s' if item.splittable else '-'}\0{_spell(sorted(parts)) if parts else '-'}"
        )
        key = hashlib.sha256(spelt.encode("utf-8", "surrogatepass")).digest()
        self.given[id(item)] = (item, key)  # asked again by put, and by the block cache
        return key

    def head(self, settings: Settings, location: Location, file: str) -> str | None:
        """The head of the keys of a source file's items (`file`, its path), as `key`
        spells it: what they share (state/block_cache.py)."""
        return self._head(settings, location, Location(file, 1, 1))

    def has_parts(self, item_id: str) -> bool:
        """Whether the lockfile knows parts of item `item_id` (its key reads their ids)."""
        return item_id in self._parts

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
        engine = self._engine(item.settings.target)
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
        """[get(item) for item in items], the plain records of the file read in one loop."""
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
            engine = self._engine(target)
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
        if key is not None and _keepable(item, result):
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

    def _engine(self, target: str) -> str | None:
        """The engine the fingerprints of `target`'s items are for, as records spell it."""
        if target not in self._engines:
            facts = self.printer.engine(target) if self.printer is not None else None
            self._engines[target] = None if facts is None else engine_spelt(*facts)
        return self._engines[target]

    def save(self) -> None:
        """Write the results of this command's items, when they are not what the files
        have: the few new since the file was written whole in a delta over it, else all."""
        reader, read, delta = self.reader, self.read, self.delta
        if reader is not None and len(reader.records) >= DELTA_MIN:
            fresh = [key for key in self.results if key not in read]  # new, or the delta's
            gone = len(reader.records) - (len(self.results) - len(fresh))
            if len(fresh) + gone <= len(reader.records) // DELTA_SHARE:
                if self.learnt or len(fresh) != (len(delta.records) if delta else 0):
                    self._write(self.delta_path, _over(self.identity, reader.digest), fresh)
                return
        stale = reader is None or delta is not None or len(reader.records) != len(self.results)
        if not (self.learnt or stale):
            return
        self._write(self.path, self.identity, list(self.results))
        if delta is not None:
            with contextlib.suppress(OSError):  # over another file now: it would be ignored
                remove_file(self.delta_path, root=self.project.root)

    def _write(self, path: Path, identity: str, keys: list[bytes]) -> None:
        """The records of `keys` written at `path` as a cache made for `identity`."""
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
        write_cache(path, self.project.root, KIND, identity, table)

    def _head(self, settings: Settings, location: Location, where: Location) -> str | None:
        """The key's spelling of the settings and places the items of one entry or file
        share, made once for them all."""
        shared = (id(settings), id(location), id(where))
        found = self._heads.get(shared)
        # the same objects, not only their ids (an id can be reused once its object is gone)
        if found is not None and found[0] is settings and found[1] is location:
            return found[3] if found[2] is where else self._new_head(settings, location, where)
        return self._new_head(settings, location, where)

    def _new_head(self, settings: Settings, location: Location, where: Location) -> str | None:
        shared = (id(settings), id(location), id(where))
        context = self._settings_key(settings)
        head = (
            None if context is None else f"{context}\0{self._place(location)}\0{self._place(where)}"
        )
        self._heads[shared] = (settings, location, where, head)
        return head

    def _place(self, location: Location) -> str:
        """`location` spelt, once for the many items that share one (a source's file)."""
        found = self._places.get(id(location))
        if found is None or found[0] is not location:
            found = self._places[id(location)] = (location, _spell(location))
        return found[1]

    def _settings_key(self, settings: Settings) -> str | None:
        """The part of the key shared by the items of one settings object."""
        found = self._settings.get(id(settings))
        if found is None or found[0] is not settings:
            found = (settings, self._spell_settings(settings))
            self._settings[id(settings)] = found
        return found[1]

    def _spell_settings(self, settings: Settings) -> str | None:
        project = self.project
        name = settings.template
        path = project.templates.get(name, "<plain>" if name == BUILTIN_TEMPLATE else "")
        files = self.files.digest(path) if path else "none"
        if files is None:
            return None
        voice = project.voices.get(settings.voice)
        target = project.targets.get(settings.target)
        return _spell(
            (
                self._world,
                astuple(settings),
                name,
                path,
                files,
                project.template_locations.get(name),
                astuple(voice) if voice is not None else None,
                astuple(target) if target is not None else None,
            )
        )


def _over(identity: str, digest: str) -> str:
    """The identity of a delta over the file whose body has sha256 `digest`."""
    return f"{identity} over {digest}"


def _plain(result: ItemResult) -> bool:
    """One request, no problem, no warning: a result whose fingerprints can be kept."""
    return not result.problems and len(result.rendered) == 1 and not result.rendered[0].warnings


def _keepable(item: Item, result: ItemResult) -> bool:
    """Whether `result` is a function of its key alone: each request is of the item or of a
    part made from it by id, text and chunk (render/render.py), and no problem is the
    sandbox's budget over all items (which depends on the items rendered before it)."""
    for rendered in result.rendered:
        this = rendered.item
        # the item itself (as good as equal to itself replaced with its own id, text, chunk)
        if this is not item and this != replace(item, id=this.id, text=this.text, chunk=this.chunk):
            return False
        if rendered.request.item_id != this.id:
            return False
    if not result.problems and len(result.rendered) == 1 and not result.rendered[0].warnings:
        return True  # no problem at all, so none of the run-wide budget
    problems = [*result.problems, *(w for r in result.rendered for w in r.warnings)]
    return not any(_RUN_WIDE in p.message for p in problems)


def _spell(value: object) -> str:
    """`value` spelt so that two different values of the kinds in a project (str, int,
    float, bool, None, dates, lists and dicts of them, dataclasses) are spelt differently."""
    return repr(value)
