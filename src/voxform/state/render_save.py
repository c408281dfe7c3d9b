"""How the render cache is written (RenderCache.save, apart for its module's size): not
at all when its files hold the results told by blocks (noted, or found so: render_held.py);
after an edit, the few new results in a delta over the first file, found from the note
without reading that file; else as read and settled, in a delta or whole.

After one source file is edited, a plan's results are those its blocks told and the few it
rendered anew. Written the usual way, the writer reads the whole first file (77 MB, its
sha256 and its text decoded at 100,000 items) only to find the told results' records in it
and to count those it has that are gone, then writes the few new ones in a delta over it.
The note has what that needs: the first file's digest and its keys, vouched for by its stat.
The delta, small, is read whole as ever. A told result found in neither, or more than a
delta may hold, and the writing goes the usual way (RenderCache.save).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from voxform.files import remove_file
from voxform.state.cachefile import read_cache
from voxform.state.render_held import holds, note, read_note

if TYPE_CHECKING:
    from voxform.state.render_cache import RenderCache

_RAW = 32  # a key's bytes


def save(cache: RenderCache, kind: str, share: int, least: int) -> None:
    """RenderCache.save: its records of `kind`; in a delta when the records new or gone are
    at most 1/`share` of the first file's, of `least` records or more."""
    if not cache.unsaved():
        return  # every result told by a block, whose record the files hold (noted)
    root, files, told = cache.project.root, cache.pair, [late[2] for late in cache.late]
    if told and cache._files is None and not cache.learnt:
        found = holds(files, kind, cache, told)
        if found is not None:
            note(root, files, cache.identity, told, found)  # the next plan need not look
            return
    if delta_from_note(cache, kind, share, least):
        return  # an edit: the few new in a delta, the first file not read
    if cache.late:
        cache._settle_told()
    reader, read, delta = cache.reader, cache.read, cache.delta
    if reader is not None and len(reader.records) >= least:
        fresh = [key for key in cache.results if key not in read]  # new, or the delta's
        gone = len(reader.records) - (len(cache.results) - len(fresh))
        if len(fresh) + gone <= len(reader.records) // share:
            written = True
            if cache.learnt or len(fresh) != (len(delta.records) if delta else 0):
                over = cache.over(reader.digest)
                written = cache._write(cache.delta_path, over, fresh) is not None
            if written:
                first = (reader.digest, b"".join(reader.records))
                note(root, files, cache.identity, [[*cache.results]], first)
            return
    stale = reader is None or delta is not None or len(reader.records) != len(cache.results)
    if not (cache.learnt or stale):
        return
    whole = cache._write(cache.path, cache.identity, list(cache.results))
    if delta is not None:
        with contextlib.suppress(OSError):  # over another file now: it would be ignored
            remove_file(cache.delta_path, root=root)
    if whole is not None:
        note(root, files, cache.identity, [[*cache.results]], whole)


def delta_from_note(cache: RenderCache, kind: str, share: int, least: int) -> bool:
    """Write `cache`'s delta (its records of `kind` not in its first file) when its note
    vouches for the first file (of `least` records or more), every told result's record is
    in one of the files, and the records new or gone are at most 1/`share` of the first
    file's; note what the files then hold. False when it did nothing (RenderCache.save goes
    the usual way): `cache` is then as it was. One of RenderCache.save's ways, apart for
    that module's size: it reads and sets what save does."""
    if not cache.late or cache._files is not None:
        return False
    found = read_note(cache.pair, cache)
    if found is None or len(found.keys) < least * _RAW:
        return False
    delta = read_cache(cache.delta_path, kind, cache.over(found.digest))
    in_delta = delta.records if delta is not None else {}
    first = {found.keys[at : at + _RAW] for at in range(0, len(found.keys), _RAW)}
    moved: dict[bytes, int] = {}  # told results whose records are in the delta: kept there
    in_first = 0
    for _, _, keys in cache.late:
        for key in keys:
            start = in_delta.get(key)
            if start is not None:
                moved[key] = start
            elif key in first:
                in_first += 1
            else:
                return False  # a record neither file has: made again, the usual way
    fresh = list(dict.fromkeys([*moved, *(k for k in cache.results if k not in moved)]))
    gone = len(first) - in_first
    if len(fresh) + gone > len(first) // share:
        return False
    for items, results, keys in cache.late:  # what is copied has its result to fall back to
        for key, item, result in zip(keys, items, results, strict=True):
            if key in moved:
                cache.results[key] = result
                cache.items[key] = item
    cache.read_delta.update(moved)
    cache._files = (None, delta)  # the first file is not read: nothing is copied from it
    try:
        written = cache._write(cache.delta_path, cache.over(found.digest), fresh)
    finally:
        cache._files = None
    if written is not None:
        held = [*(keys for _, _, keys in cache.late), [k for k in cache.results if k not in moved]]
        note(cache.project.root, cache.pair, cache.identity, held, (found.digest, found.keys))
    return True
