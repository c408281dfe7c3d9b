"""Pruning: the outputs of items no manifest names any more, removed with care.

Only files inside the project are removed, and never through a symlink (a link is removed,
not what it points at). An object at the service (ICE has no delete operation here) is named
for the user to remove and dropped from the lockfile. Pruning is refused when the manifests
name no items at all (a broken include deletes nothing) or when more than `--max-delete`
items would go.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from pathlib import Path

from voxform.errors import PathEscapeError, VoxformError
from voxform.paths import inside
from voxform.state.lockfile import LockEntry

DEFAULT_MAX_DELETE = "50%"
_LIMIT = re.compile(r"^(\d+)(%?)$")


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


def remove_files(root: Path, relative: Iterable[str]) -> list[str]:
    """Remove each project file (a symlink itself, not its target); the ones removed."""
    removed = []
    for name in relative:
        try:
            path = inside(root, str(Path(name).parent)) / Path(name).name
        except PathEscapeError:
            continue  # never outside the project, whatever the lockfile says
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(name)
    return removed


def superseded(
    previous: LockEntry | None, url: str | None, subtitles: dict[str, str] | None
) -> list[str]:
    """Files of an item's previous output that its new output (`url`, `subtitles`) no
    longer uses, after a format or path change."""
    if previous is None:
        return []
    keep = {url, *(subtitles or {}).values()}
    return [name for name in local_paths(previous) if name not in keep]
