"""Deleting what the plan listed, and only while the evidence still holds.

The plan (deletions.py) lists each file a change deletes; apply deletes no other. Just before
each removal the file is looked at again: still a regular file reached through no symlink,
removable, and the bytes the lockfile recorded; anything else is kept and said why. An
object at the service (ICE has no delete operation here) is named for the user to remove.

A removed item leaves the lockfile with `--prune` only when none of its files could still
be deleted later: one kept behind a symlink, read-only or changed (another branch's bytes,
perhaps) stays named in a narrowed entry, so it is neither deleted nor forgotten. Pruning is
refused when the manifests name no items at all (a broken include deletes nothing) or when
more than `--max-delete` items would go.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from pathlib import Path

from voxform.apply.outcome import Outcome
from voxform.deletions import remote_url
from voxform.errors import VoxformError
from voxform.files import UnsafeFileError, remove_file
from voxform.paths import below
from voxform.plan.plan import Change, Plan
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import FileDigest, Kept, StatCache, files_of, kept_on_disk

DEFAULT_MAX_DELETE = "50%"
_LIMIT = re.compile(r"^(\d+)(%?)$")


def parse_limit(max_delete: str) -> tuple[int, bool]:
    """`--max-delete` as (number, is a share); VoxformError for anything but `20` or `25%`."""
    match = _LIMIT.match(max_delete.strip())
    if match is None or len(match.group(1)) > 18:
        raise VoxformError(f"--max-delete {max_delete!r}: give a count (20) or a share (25%)")
    return int(match.group(1)), bool(match.group(2))


def check_prune(deleting: int, recorded: int, rendered: int, max_delete: str) -> None:
    """Refuse a prune that looks like a mistake; VoxformError says why and how to insist."""
    number, share = parse_limit(max_delete)
    if not deleting:
        return
    if rendered == 0:
        raise VoxformError(
            f"refusing to prune all {deleting} items: the manifests name no items at all "
            "(an include that matches nothing?)"
        )
    allowed = recorded * number // 100 if share else number
    if deleting > allowed:
        raise VoxformError(
            f"refusing to prune {deleting} of {recorded} recorded items: more than "
            f"--max-delete {max_delete} ({allowed}); pass a larger --max-delete if that is meant"
        )


def remove_checked(
    root: Path, names: Collection[str], recorded: Mapping[str, FileDigest] | None
) -> tuple[list[str], list[Kept]]:
    """Remove each of `names` (files a plan listed) that is still the recorded bytes; the
    files removed, and those kept with why."""
    real_root = root.resolve()
    cache = StatCache(None)  # read again: the plan may be older than the file's last change
    removed: list[str] = []
    kept: list[Kept] = []
    for name in names:
        expected = (recorded or {}).get(name)
        if expected is None:
            kept.append(Kept(name, "no digest of it is recorded", True))
            continue
        found = kept_on_disk(real_root, name, expected, cache)
        if isinstance(found, Kept):
            kept.append(found)
        elif found == "delete":
            try:
                if remove_file(below(real_root, name), root=real_root):
                    removed.append(name)
            except (UnsafeFileError, OSError) as exc:
                kept.append(Kept(name, str(exc), False))
    return removed, kept


class Superseded:
    """The files updates leave behind, removed by the workers as each job finishes; what
    was removed and kept is collected here, for the outcome."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.removed: list[str] = []
        self.kept: list[Kept] = []
        self._guard = threading.Lock()

    def remove(self, change: Change, previous: LockEntry | None, new: Collection[str]) -> None:
        """Remove the files `change` lists, unless the finished job wrote `new` there."""
        names = [name for name in change.deletes if name not in new]
        if self.root is None or previous is None or not (names or change.kept):
            return
        removed, kept = remove_checked(self.root, names, files_of(previous.outputs))
        with self._guard:
            self.removed += removed
            self.kept += [*change.kept, *kept]

    def report(self, outcome: Outcome) -> None:
        outcome.deleted += self.removed
        outcome.kept += [(k.file, k.why) for k in self.kept]


def prune(
    root: Path,
    plan: Plan,
    lock: LockState,
    record: Callable[[str, LockEntry | None], None],
    outcome: Outcome,
) -> None:
    """Delete the files of the plan's removed items and drop them from the lockfile (`lock`
    and `record`, the journal); an item with a file that stays but might go later is kept,
    naming only such files."""
    for change in plan.changes:
        entry = lock.items.get(change.id) if change.action == "delete" else None
        if entry is None:
            continue
        removed, kept = remove_checked(root, change.deletes, files_of(entry.outputs))
        kept = [*change.kept, *kept]
        outcome.deleted += removed
        outcome.kept += [(k.file, k.why) for k in kept]
        if (url := remote_url(entry)) is not None:
            outcome.remote.append(url)
        remaining = {k.file for k in kept if not k.lasting}
        if remaining:
            lock.items[change.id] = narrowed = _narrowed(entry, remaining)
            record(change.id, narrowed)
            outcome.unpruned.append(change.id)
        else:
            del lock.items[change.id]
            record(change.id, None)
            outcome.pruned.append(change.id)


def _narrowed(entry: LockEntry, remaining: Collection[str]) -> LockEntry:
    """`entry` naming only the `remaining` files (its object at the service is told once)."""
    subtitles = {k: v for k, v in (entry.subtitles or {}).items() if v in remaining}
    outputs = {k: v for k, v in (entry.outputs or {}).items() if k in remaining}
    return replace(
        entry,
        url=entry.url if entry.url in remaining else None,
        subtitles=subtitles or None,
        outputs=outputs or None,
    )
