"""The render cache's keys (state/render_cache.py): the digest of everything an item's
render reads, spelt once per settings, place and file for the many items that share them."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import astuple
from pathlib import Path
from typing import TYPE_CHECKING

from voxform.errors import Location
from voxform.manifest.model import BUILTIN_TEMPLATE, Project, Settings
from voxform.render.dependencies import TemplateFiles
from voxform.render.model import Item
from voxform.render.version import render_identity
from voxform.state.template_includes import TemplateIncludes

if TYPE_CHECKING:
    from voxform.render.sandbox import Sandbox


def _environment(root: Path) -> Sandbox:
    """The template environment, made (and jinja2 loaded) when a template is first parsed."""
    from voxform.render.templates import make_environment

    return make_environment(root)


def project_identity(project: Project) -> str:
    """Which project and which voxform rendering a cache was made for."""
    spelt = f"{len(project.name)}:{project.name}\0{project.root.resolve()}\0{render_identity()}"
    return hashlib.sha256(spelt.encode("utf-8", "surrogatepass")).hexdigest()


class RenderKeys:
    """The keys of a project's items (RenderCache's base)."""

    def __init__(
        self, project: Project, known: Mapping[str, str], includes: TemplateIncludes | None = None
    ) -> None:
        self.project = project
        root = project.root
        self.includes = includes
        self.files = TemplateFiles(root, lambda: _environment(root), includes)
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


def _spell(value: object) -> str:
    """`value` spelt so that two different values of the kinds in a project (str, int,
    float, bool, None, dates, lists and dicts of them, dataclasses) are spelt differently."""
    return repr(value)
