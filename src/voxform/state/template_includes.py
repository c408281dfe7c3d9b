"""What each template includes, by the digest of its bytes: `.voxform/template-includes`.

The render cache keys an item on every file its template reads (render/dependencies.py),
which is found by parsing the template with jinja2. A plan that renders nothing would load
jinja2 for that alone (some 15 ms of a command's start); this cache gives, for a template's
bytes, the names they include, so that such a plan parses no template. It is made for this
voxform's rendering (render_identity, of which jinja2's code is part), and, like every
cache in `.voxform/` (cachefile.py), ignored when it is damaged or foreign: the templates
are then parsed, and it is written again.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from voxform.render.dependencies import UNKNOWN, Includes
from voxform.render.version import render_identity
from voxform.state.cachefile import CacheReader, CacheTable, read_cache, write_cache

INCLUDES = "template-includes"
KIND = "template-includes"
VERSION = 1
_HEX = frozenset("0123456789abcdef")


class TemplateIncludes:
    """An IncludesMemo over the file at `path` (read when first asked), below `root`."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self._known: dict[str, Includes] | None = None
        self._used: set[str] = set()  # the templates' bytes of this command
        self.learnt = False

    def get(self, digest: str) -> Includes | str:
        self._used.add(digest)
        found = self._read().get(digest, UNKNOWN)
        return found if found is None or isinstance(found, str) else list(found)

    def put(self, digest: str, includes: Includes) -> None:
        if len(digest) == 64 and _HEX.issuperset(digest):
            self._read()[digest] = None if includes is None else list(includes)
            self._used.add(digest)
            self.learnt = True

    def save(self) -> None:
        """Write what this command's templates include, when one was parsed that the file
        did not tell of (the bytes of templates no longer used are left out)."""
        if not self.learnt:
            return
        known = self._read()
        table = CacheTable()
        for digest, includes in sorted((d, known[d]) for d in self._used if d in known):
            table.record(bytes.fromhex(digest))
            table.number(-1 if includes is None else len(includes))
            for name in includes or ():
                table.text(name)
        write_cache(self.path, self.root, KIND, _identity(), table)
        self.learnt = False

    def _read(self) -> dict[str, Includes]:
        if self._known is None:
            reader = read_cache(self.path, KIND, _identity())
            self._known = {}
            if reader is not None:
                with contextlib.suppress(ValueError, TypeError, IndexError):
                    self._known = _entries(reader)
        return self._known


def _entries(reader: CacheReader) -> dict[str, Includes]:
    """Each record's template digest and names; ValueError for a record that is not one."""
    known: dict[str, Includes] = {}
    ints = reader.ints
    for key, at in reader.records.items():
        count = ints[at]
        if count < 0:
            if count != -1:
                raise ValueError("not a count of names")
            known[key.hex()] = None
            continue
        names = [reader.text(index) for index in ints[at + 1 : at + 1 + count]]
        if len(names) != count:
            raise ValueError("fewer names than counted")
        found = [name for name in names if name is not None]
        if len(found) != count:
            raise ValueError("a name that is none")
        known[key.hex()] = found
    return known


def _identity() -> str:
    return f"{VERSION}:{render_identity()}"
