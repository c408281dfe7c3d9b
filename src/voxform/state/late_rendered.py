"""Plain results told by a source file's block (state/block_cache.py), without the render
cache's record of each being read: a second plan of 100,000 unchanged items neither reads
nor decodes the render cache.

A block keeps, beside its chunks' render keys, what the plan reads of each plain result:
the characters it speaks and its fingerprint and audio digest, for the engine the block
names. Those are values of the render key (as the render cache's record is) and of that
engine, so they are the values the record gives. The rest of a result (its request and
digests) is read from the render cache when first asked for (`settle`): the record under
the render key if the file has it, else the item rendered again, in one batch for many.
"""

from __future__ import annotations

from typing import Protocol

from voxform.frozen import maker
from voxform.ice.wire import AudioRequest
from voxform.manifest.model import Project
from voxform.render.model import Item, Prints, RenderedItem
from voxform.render.results import ItemResult
from voxform.state.cached_rendered import HEX, PREFIX, CachedRendered, from_record
from voxform.state.cachefile import CacheReader

_REQUEST_SLOT = RenderedItem.__dict__["request"]
_DIGESTS_SLOT = RenderedItem.__dict__["digests"]

# A block's plain results as it tells them: the render keys, each result's characters, and
# their fingerprints' and audio digests' 64 bytes one after another
Told = tuple[list[bytes], list[int], bytes]


class Settler(Protocol):
    """Where a told result's request and digests are found (the render cache)."""

    def settle(self, key: bytes, item: Item) -> tuple[CacheReader, int] | RenderedItem:
        """The reader and string index of the record of `key`, or `item` rendered anew."""
        ...


class ToldBlock:
    """A block's told results, shared by them: each is a LateRendered of an index into it."""

    __slots__ = ("characters", "items", "keys", "kind", "made_for", "project", "settler", "spelt")

    def __init__(
        self,
        items: list[Item],
        told: Told,
        kind: str,
        made_for: str | None,
        settler: Settler,
        project: Project,
    ) -> None:
        self.items = items
        self.keys, self.characters, raw = told
        self.spelt = raw.hex()  # each result's fingerprint and audio digest, in hex
        self.kind = kind
        self.made_for = made_for
        self.settler = settler
        self.project = project

    def results(self) -> list[ItemResult]:
        """Each item's result, in order."""
        results = []
        for n, item in enumerate(self.items):
            value = _new(LateRendered)
            _SET_ITEM(value, item)  # read often (a plan's every step): not looked up
            _SET_BLOCK(value, self)
            _SET_N(value, n)
            results.append(_result((value,), ()))
        return results


class LateRendered(CachedRendered):
    """A plain result told by a block: equal to the RenderedItem its record gives, its
    fields read from its block, its request and digests read from the render cache (or
    made anew) when first read."""

    __slots__ = ("_block", "_n")
    _block: ToldBlock
    _n: int

    @property  # read-only, as a frozen dataclass's field
    def characters(self) -> int:
        return self._block.characters[self._n]

    @property
    def warnings(self) -> tuple[()]:
        return ()

    @property
    def legacy_input(self) -> None:
        return None

    @property
    def prints(self) -> Prints:
        block, at = self._block, 2 * HEX * self._n
        spelt = block.spelt
        return (
            block.kind,
            block.made_for,
            PREFIX + spelt[at : at + HEX],
            PREFIX + spelt[at + HEX : at + 2 * HEX],
        )

    @property
    def key(self) -> bytes:
        """Its render key."""
        return self._block.keys[self._n]

    def settled(self) -> bool:
        """Whether its request and digests are known, or where to read them."""
        for slot in (_READER_SLOT, _REQUEST_SLOT):
            try:
                slot.__get__(self, type(self))
            except AttributeError:
                continue
            return True
        return False

    def settle(self, found: tuple[CacheReader, int] | RenderedItem) -> None:
        """Take `found` (Settler.settle's answer) for its request and digests."""
        if isinstance(found, RenderedItem):
            _REQUEST_SLOT.__set__(self, found.request)
            _DIGESTS_SLOT.__set__(self, found.digests)
        else:
            from_record(self, self._block.project, *found)

    @property
    def request(self) -> AudioRequest:
        if not self.settled():
            self.settle(self._block.settler.settle(self.key, self.item))
        found: AudioRequest = _CACHED_REQUEST(self)
        return found

    @property
    def digests(self) -> dict[str, str]:
        if not self.settled():
            self.settle(self._block.settler.settle(self.key, self.item))
        found: dict[str, str] = _CACHED_DIGESTS(self)
        return found


_READER_SLOT = CachedRendered.__dict__["_reader"]
_SET_ITEM = RenderedItem.__dict__["item"].__set__
_SET_BLOCK = LateRendered.__dict__["_block"].__set__
_SET_N = LateRendered.__dict__["_n"].__set__
_CACHED_REQUEST = CachedRendered.__dict__["request"].fget
_CACHED_DIGESTS = CachedRendered.__dict__["digests"].fget
_result = maker(ItemResult)
_new = object.__new__
