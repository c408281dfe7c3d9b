"""One output, one owner: no two items may write the same file or the same OSS object.

Two items writing one place overwrite each other on every apply, the plan flips between
them forever, and pruning one deletes the other's audio. What an item writes follows from
the manifests alone, so validate can refuse it. The key is `<prefix><id>`; each target has
a folder in the project for its subtitles, `<key>.vtt` and `.srt`. A local target's audio
`<key>.<format>` sits beside them (so two formats of one key share those), an ICE target's
is the object `<key>.<format>` in its bucket. Files are compared by normalised path,
without regard to case, as a checkout on macOS or Windows would see them; object keys
exactly, as OSS does. One dict keyed by every place written keeps this linear in items.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from voxform.errors import Location, Problem
from voxform.manifest.model import Settings, Target

SUBTITLE_FORMATS = ("vtt", "srt")


class Owner(Protocol):
    """An item as written in the manifests, or one expanded from a source."""

    @property
    def id(self) -> str: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def location(self) -> Location: ...


@dataclass
class _Clash:
    """The first place two entries both write, and how many of their items do so."""

    first: Owner
    second: Owner
    place: str
    items: int = 1


@dataclass(frozen=True)
class _Spots:
    """A target's places as prefixes of strings, worked out once for all of its items:
    `f:` and the folder, in lower case, for files; `o:` and the bucket for objects."""

    files: str | None  # "f:<folder>/<prefix>", case-folded
    objects: str | None  # "o:<bucket>/<prefix>"
    audio_file: bool  # a local target: the audio is a file beside the subtitles

    def around(self, audio_format: str) -> tuple[tuple[str, str], ...]:
        """What comes before and after an item's id in each place it writes, its audio
        first (the same for all the items of one format)."""
        found = []
        if self.audio_file and self.files is not None:
            found.append((self.files, f".{audio_format}"))
        elif self.objects is not None:
            found.append((self.objects, f".{audio_format}"))
        if self.files is not None:
            found += [(self.files, f".{ext}") for ext in SUBTITLE_FORMATS]
        return tuple(found)


def output_owners(
    root: Path,
    targets: Mapping[str, Target],
    folders: Mapping[str, str],
    items: Iterable[Owner],
) -> list[Problem]:
    """One problem per pair of entries whose items write the same file or object, at the
    later entry, naming both items and where the first is defined. `folders`: each target's
    subtitle folder (the providers know it). Items with one id are left to the duplicate-id
    check."""
    items = items if isinstance(items, list | tuple) else list(items)
    if len({(item.settings.target, item.settings.format) for item in items}) < 2:
        # Within one target and format, two items' places are one only if their ids are:
        # a place is one of fixed prefixes (objects `o:`, files `f:`), the id, and an
        # extension (no dot in it), so none of 100,000 items' places needs spelling here.
        return []
    owners: dict[str, Owner] = {}
    clashes: dict[tuple[Location, Location], _Clash] = {}
    spots: dict[str, _Spots | None] = {}
    # (target, format) -> what comes before and after the id in each place, found once
    arounds: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    for item in items:
        settings = item.settings
        name, audio_format = settings.target, settings.format
        around = arounds.get((name, audio_format))
        if around is None:
            if name not in spots:
                spots[name] = _spots(root, targets.get(name), folders.get(name))
            spot = spots[name]
            around = arounds[name, audio_format] = () if spot is None else spot.around(audio_format)
        item_id = item.id
        for before, after in around:
            place = f"{before}{item_id}{after}"
            first = owners.setdefault(place, item)
            if first is item:
                continue
            if first.id != item.id:
                pair = (first.location, item.location)
                if pair in clashes:
                    clashes[pair].items += 1
                else:
                    shown = _shown(root, targets[name], folders.get(name), place, item)
                    clashes[pair] = _Clash(first, item, shown)
            break  # one clash per item is enough to refuse it
    return [_problem(clash) for clash in clashes.values()]


def _spots(root: Path, target: Target | None, folder: str | None) -> _Spots | None:
    """Ids are path-safe (no empty, `.` or `..` part) and a bad prefix is refused at the
    target, so `<folder>/<prefix><id>` is normal as it stands: no item pays for a normpath."""
    if target is None:
        return None
    base = _relative(root, folder)
    files = None if base is None else "f:" + _joined(base, target.prefix).casefold()
    objects = None if target.bucket is None else f"o:{target.bucket}/{target.prefix}"
    return _Spots(files, objects, target.provider == "local")


def _joined(base: str, prefix: str) -> str:
    return prefix if base == "." else f"{base}/{prefix}"


def _shown(root: Path, target: Target, folder: str | None, place: str, item: Owner) -> str:
    """The place as the second item's target spells it (not case-folded), for the message."""
    ext = place.rpartition(".")[2]
    if place.startswith("o:"):
        return f"oss://{target.bucket}/{target.prefix}{item.id}.{ext}"
    return f"{_joined(_relative(root, folder) or '.', target.prefix)}{item.id}.{ext}"


def _relative(root: Path, folder: str | None) -> str | None:
    """`folder` relative to the root and normalised; None when there is none to compare
    (outside the project, which is refused where the path is given)."""
    if folder is None:
        return None
    path = posixpath.normpath(folder)
    if posixpath.isabs(path):
        try:
            path = Path(path).relative_to(root).as_posix()
        except ValueError:
            return None
    return path


def _problem(clash: _Clash) -> Problem:
    first, second = clash.first, clash.second
    more = clash.items - 1
    also = f" (and {more} more item{'s' if more > 1 else ''} of these entries)" if more else ""
    return Problem(
        second.location,
        f"item {second.id!r} (target {second.settings.target!r}) and item {first.id!r} "
        f"(target {first.settings.target!r}, defined at {first.location}) both write "
        f"{clash.place}{also}: each output needs one owner, so give one of them another id, "
        "prefix or path",
        "duplicate-output",
    )
