"""Pruning: the outputs of items no manifest names any more, removed with care.

Only audio and subtitle files inside the project are removed, and never through a symlink:
a link on the way, or in the file's place, is left as it is, and so is a read-only file. An
object at the service (ICE has no delete operation here) is named for the user to remove
and dropped from the lockfile. Pruning is refused when the manifests
name no items at all (a broken include deletes nothing) or when more than `--max-delete`
items would go.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from pathlib import Path

from voxform.errors import PathEscapeError, VoxformError
from voxform.files import UnsafeFileError, check_writable, remove_file
from voxform.ice.wire import FORMATS
from voxform.paths import below
from voxform.state.lockfile import LockEntry

DEFAULT_MAX_DELETE = "50%"
_LIMIT = re.compile(r"^(\d+)(%?)$")
OUTPUT_SUFFIXES = frozenset({*(f".{f}" for f in FORMATS), ".vtt", ".srt"})


def check_prune(deleting: int, recorded: int, rendered: int, max_delete: str) -> None:
    """Refuse a prune that looks like a mistake; VoxformError says why and how to insist."""
    if not deleting:
        return
    if rendered == 0:
        raise VoxformError(
            f"refusing to prune all {deleting} items: the manifests name no items at all "
            "(an include that matches nothing?)"
        )
    match = _LIMIT.match(max_delete.strip())
    if match is None:
        raise VoxformError(f"--max-delete {max_delete!r}: give a count (20) or a share (25%)")
    number, share = int(match.group(1)), bool(match.group(2))
    allowed = recorded * number // 100 if share else number
    if deleting > allowed:
        raise VoxformError(
            f"refusing to prune {deleting} of {recorded} recorded items: more than "
            f"--max-delete {max_delete} ({allowed}); pass a larger --max-delete if that is meant"
        )


def remote_url(entry: LockEntry) -> str | None:
    """The entry's audio when it lives at the service (a URL), not in the project."""
    return entry.url if entry.url and "://" in entry.url else None


def local_paths(entry: LockEntry) -> list[str]:
    """The project files an entry names: its audio (for a local target) and subtitles."""
    paths = list((entry.subtitles or {}).values())
    if entry.url and remote_url(entry) is None:
        paths.insert(0, entry.url)
    return paths


def check_removable(root: Path, relative: Iterable[str]) -> None:
    """UnsafeFileError, naming the file, when one of `relative` would not be removed: not an
    audio or subtitle file, outside the project, or behind (or being) a symlink."""
    for name in relative:
        _remove(root, name, dry_run=True)


def remove_files(root: Path, relative: Iterable[str]) -> list[str]:
    """Remove each project file that check_removable allows; the ones removed. The others
    stay as they are (an update goes on: its new files are written already)."""
    removed = []
    for name in relative:
        with contextlib.suppress(UnsafeFileError):
            if _remove(root, name, dry_run=False):
                removed.append(name)
    return removed


def _remove(root: Path, name: str, *, dry_run: bool) -> bool:
    if Path(name).suffix.lower() not in OUTPUT_SUFFIXES:
        raise UnsafeFileError(f"{name} is not an audio or subtitle file, so voxform keeps it")
    try:
        path = below(root, name)
    except PathEscapeError as exc:
        raise UnsafeFileError(f"{name} is not a project file voxform wrote ({exc})") from exc
    if dry_run:
        check_writable(path, root=root, verb="remove")
        return False
    return remove_file(path, root=root)


def superseded(
    previous: LockEntry | None, url: str | None, subtitles: dict[str, str] | None
) -> list[str]:
    """Files of an item's previous output that its new output (`url`, `subtitles`) no
    longer uses, after a format or path change."""
    if previous is None:
        return []
    keep = {url, *(subtitles or {}).values()}
    return [name for name in local_paths(previous) if name not in keep]
