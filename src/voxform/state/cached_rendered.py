"""A plain result read back from the render cache (state/render_records.py), whose request
and digests are put together only when first read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import TypeVar, cast

from voxform.frozen import maker
from voxform.ice.wire import AudioRequest
from voxform.manifest.model import Project
from voxform.render.assemble import digests_of, request_for
from voxform.render.inputs import Core
from voxform.render.model import Item, Prints, RenderedItem
from voxform.state.cachefile import CacheReader

_Value = TypeVar("_Value", AudioRequest, RenderedItem)

CORE = ("source", "text", "ssml", "output", "location")  # assemble.py's Core, in order
PREFIX = "sha256:"
HEX = 64  # a digest's hex digits
DIGESTS = HEX * len(CORE)  # a plain record's string: the five digests' hex, then the input


# A frozen dataclass's __init__ sets each field through object.__setattr__, which costs more
# than all the rest of reading a record, 100,000 times over (voxform/frozen.py).
_MAKERS: dict[type, Callable[..., object]] = {
    cls: maker(cls) for cls in (AudioRequest, RenderedItem)
}


def revive(cls: type[_Value], *values: object) -> _Value:
    """A `cls` of `values` (every field, in order), made without its __init__."""
    return cast(_Value, _MAKERS[cls](*values))


# RenderedItem's own slot descriptors
_DIGESTS_SLOT = RenderedItem.__dict__["digests"]
_REQUEST_SLOT = RenderedItem.__dict__["request"]
_FIELDS = tuple(f.name for f in fields(RenderedItem))


class CachedRendered(RenderedItem):
    """A plain result read from the cache, whose request and digests (a dict of a dozen
    strings) are put together only when first read, from the string of the record that
    keeps them (its digests' hex and the request's input): a plan reads them for the items
    it changes, not for the 100,000 it does not. Equal to, and pickled as, the
    RenderedItem `rendered_item` makes of the same record."""

    __slots__ = ("_kept", "_project", "_reader")
    _project: Project
    _reader: CacheReader
    _kept: int  # the index of the record's string in the reader

    @property
    def request(self) -> AudioRequest:
        try:
            found: AudioRequest = _REQUEST_SLOT.__get__(self, RenderedItem)
        except AttributeError:
            final = (self._reader.text(self._kept) or "")[DIGESTS:]
            found = request_for(self._project, self.item, final)
            _REQUEST_SLOT.__set__(self, found)
        return found

    @property
    def digests(self) -> dict[str, str]:
        try:
            found: dict[str, str] = _DIGESTS_SLOT.__get__(self, RenderedItem)
        except AttributeError:
            hexes = (self._reader.text(self._kept) or "")[:DIGESTS]
            core = tuple(PREFIX + hexes[i : i + HEX] for i in range(0, DIGESTS, HEX))
            found = digests_of(self._project, self.item, self.request, cast(Core, core))
            _DIGESTS_SLOT.__set__(self, found)
        return found

    def plain(self) -> RenderedItem:
        """The same value as a RenderedItem."""
        return revive(RenderedItem, *(getattr(self, n) for n in _FIELDS))

    def __eq__(self, other: object) -> bool:
        return self.plain() == other

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[object, ...]:
        return (revive, (RenderedItem, *(getattr(self, n) for n in _FIELDS)))


def cached(
    item: Item,
    characters: int,
    legacy: str | None,
    prints: Prints | None,
    project: Project,
    reader: CacheReader,
    kept: int,
) -> CachedRendered:
    value = _new(CachedRendered)
    _SET_ITEM(value, item)
    _SET_CHARACTERS(value, characters)
    _SET_WARNINGS(value, ())
    _SET_LEGACY(value, legacy)
    _SET_PRINTS(value, prints)
    from_record(value, project, reader, kept)
    return value


def from_record(value: CachedRendered, project: Project, reader: CacheReader, kept: int) -> None:
    """Have `value` put its request and digests together, when first read, from the string
    `kept` of `reader` (a plain record's)."""
    _SET_PROJECT(value, project)
    _SET_READER(value, reader)
    _SET_KEPT(value, kept)


_new = object.__new__
_SET_ITEM = RenderedItem.__dict__["item"].__set__
_SET_CHARACTERS = RenderedItem.__dict__["characters"].__set__
_SET_WARNINGS = RenderedItem.__dict__["warnings"].__set__
_SET_LEGACY = RenderedItem.__dict__["legacy_input"].__set__
_SET_PRINTS = RenderedItem.__dict__["prints"].__set__
_SET_PROJECT = CachedRendered.__dict__["_project"].__set__
_SET_READER = CachedRendered.__dict__["_reader"].__set__
_SET_KEPT = CachedRendered.__dict__["_kept"].__set__
