"""Which objects `voxform pull` fetches, and where each goes in the project.

An item is pulled when the lockfile records it finished on an ICE target and the object's
place is still the one the manifests give (the `output` digest the lockfile keeps: bucket,
region, key, format). Its file is the key below the target's prefix (`<id>.<ext>`) under
the folder asked for, by default `build/<target>/`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from voxform.errors import PathEscapeError, VoxformError, did_you_mean
from voxform.manifest.model import Target
from voxform.plan.plan import selected
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockState

DEFAULT_FOLDER = "build"
DEFAULT_REGION = "cn-shanghai"  # as the ICE provider's
RESERVED = (".voxform", ".git")  # folders of voxform's state and of git: never pulled into


@dataclass(frozen=True)
class Wanted:
    """One object to have in the project: its item, target, bucket and key, and the file
    (project-relative, POSIX) it goes to."""

    item_id: str
    target: str
    bucket: str
    key: str
    file: str

    @property
    def url(self) -> str:
        return f"oss://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Choice:
    """The objects to pull, and the selected items left out, by why."""

    wanted: tuple[Wanted, ...]
    local: tuple[str, ...]  # on a local target: the audio is in the project already
    unfinished: tuple[str, ...]  # pending, failed or never applied
    moved: tuple[str, ...]  # place or format changed since the audio was made


def object_of(item: RenderedItem, target: Target) -> tuple[str, str]:
    """The bucket and key of an ICE item's audio, as its request names them."""
    request = item.request
    return request.bucket or target.bucket or "", f"{request.object_key}.{request.editing.format}"


def choose(
    rendered: Sequence[RenderedItem],
    lock: LockState,
    targets: Mapping[str, Target],
    *,
    select: Sequence[str] = (),
    folder: str | None = None,
) -> Choice:
    """The items to pull among `rendered` (those matching `select`), each into `folder`
    (project-relative) or its target's default. VoxformError when a glob matches nothing."""
    ids = [r.id for r in rendered]
    for pattern in select:
        if not any(selected(i, [pattern]) for i in ids):
            raise VoxformError(f"--select {pattern!r} matches no item{did_you_mean(pattern, ids)}")
    wanted: list[Wanted] = []
    local: list[str] = []
    unfinished: list[str] = []
    moved: list[str] = []
    for item in rendered:
        if not selected(item.id, select):
            continue
        name = item.item.settings.target
        target = targets[name]
        if target.provider != "ice":
            local.append(item.id)
            continue
        entry = lock.items.get(item.id)
        if entry is None or entry.state != "finished":
            unfinished.append(item.id)
            continue
        if entry.inputs.get("output") != item.digests.get("output"):
            moved.append(item.id)
            continue
        bucket, key = object_of(item, target)
        below = key.removeprefix(target.prefix)
        base = folder if folder is not None else f"{DEFAULT_FOLDER}/{name}"
        wanted.append(Wanted(item.id, name, bucket, key, _joined(base, below)))
    return Choice(tuple(wanted), tuple(local), tuple(unfinished), tuple(moved))


def project_folder(root: Path, start: Path, given: str) -> str:
    """`given` (relative to `start`, the folder the command runs in, or absolute) as a
    normalized folder relative to the project `root`; PathEscapeError when it is outside
    the project or in voxform's or git's own folder. Nothing is resolved: a symlink on the
    way is refused when a file is written through it."""
    if "\x00" in given:
        raise PathEscapeError(f"{given!r} has a NUL character, which no folder name holds")
    path = Path(given) if Path(given).is_absolute() else start.absolute() / given
    relative = posixpath.normpath(posixpath.relpath(path.as_posix(), root.absolute().as_posix()))
    if relative == ".." or relative.startswith("../") or posixpath.isabs(relative):
        raise PathEscapeError(
            f"{given} is outside the project {root}: pull writes only inside the project"
        )
    if relative.split("/")[0] in RESERVED:
        raise PathEscapeError(
            f"{given} is inside {relative.split('/')[0]}/, which is not for audio"
        )
    return relative


def _joined(base: str, name: str) -> str:
    return name if base in ("", ".") else f"{base.rstrip('/')}/{name}"
