"""Deleting what the plan listed, and only while the evidence still holds.

The plan (deletions.py) lists each file a change deletes; apply deletes no other. Just before
each removal the file is looked at again: still a regular file reached through no symlink,
removable, and the bytes the lockfile recorded; anything else is kept and said why. Objects
in a bucket go in batches of up to 1,000 (`DeleteObjects`), each only while it still holds
the ETag and size recorded; the lockfile is journaled after each batch, so a crash leaves
it naming what was not yet deleted (and one deleted but still named is found gone next
time). An object at the service that no `outputs` record is named for the user to remove.

A removed item leaves the lockfile with `--prune` only when none of its files could still
be deleted later: one kept behind a symlink, read-only or changed (another branch's bytes,
perhaps) stays named in a narrowed entry, so it is neither deleted nor forgotten. Pruning is
refused when the manifests name no items at all (a broken include deletes nothing) or when
more than `--max-delete` items would go.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from voxform.apply.outcome import Outcome
from voxform.deletions import remote_url
from voxform.errors import VoxformError
from voxform.files import UnsafeFileError, remove_file
from voxform.oss.documents import MAX_DELETE_KEYS
from voxform.paths import below
from voxform.plan.plan import Change, Plan
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import (
    FileDigest,
    Kept,
    Output,
    StatCache,
    files_of,
    kept_on_disk,
    objects_of,
)

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


# Deletes objects still as recorded: those deleted, those kept (and why).
DeleteObjects = Callable[[Mapping[str, Output]], tuple[list[str], list[Kept]]]


class Superseded:
    """The files updates leave behind, removed by the workers as each job finishes, and
    the objects, deleted in batches once the jobs are done; what was removed and kept is
    collected here, for the outcome."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.removed: list[str] = []
        self.kept: list[Kept] = []
        self.objects: dict[str, Output] = {}  # superseded objects, as recorded
        self._guard = threading.Lock()

    def remove(self, change: Change, previous: LockEntry | None, new: Collection[str]) -> None:
        """Remove the files `change` lists, unless the finished job wrote `new` there; its
        objects are set aside for `delete_objects`."""
        if self.root is None or previous is None:
            return
        objects = objects_of(previous.outputs)
        names = [name for name in change.deletes if name not in new and name not in objects]
        if not (names or change.kept or objects):
            return
        removed, kept = remove_checked(self.root, names, files_of(previous.outputs))
        with self._guard:
            self.removed += removed
            self.kept += [*change.kept, *kept]
            self.objects.update(
                (n, objects[n]) for n in change.deletes if n in objects and n not in new
            )

    def delete_objects(self, delete: DeleteObjects) -> None:
        """Delete the superseded objects still as recorded (after the jobs finished)."""
        if self.objects:
            deleted, kept = delete(self.objects)
            self.removed += deleted
            self.kept += kept
            self.objects = {}

    def report(self, outcome: Outcome) -> None:
        outcome.deleted += self.removed
        outcome.kept += [(k.file, k.why) for k in self.kept]


def prune(
    root: Path,
    plan: Plan,
    lock: LockState,
    record: Callable[[str, LockEntry | None], None],
    outcome: Outcome,
    delete_objects: DeleteObjects | None = None,
) -> None:
    """Delete the files and objects of the plan's removed items and drop them from the
    lockfile (`lock` and `record`, the journal), a batch of up to 1,000 objects at a time;
    an item with a file or object that stays but might go later is kept, naming only
    those."""
    removed = [
        (c, entry)
        for c in plan.changes
        if c.action == "delete" and (entry := lock.items.get(c.id)) is not None
    ]
    for batch in _batches(removed):
        wanted = {
            name: digest
            for change, entry in batch
            for name, digest in objects_of(entry.outputs).items()
            if name in change.deletes
        }
        gone: list[str] = []
        left: list[Kept] = []
        if wanted:
            if delete_objects is None:
                left = [Kept(n, "its bucket was not opened", False) for n in wanted]
            else:
                gone, left = delete_objects(wanted)
        outcome.deleted += gone
        for change, entry in batch:
            objects = objects_of(entry.outputs)
            files = [n for n in change.deletes if n not in objects]
            removed_files, kept = remove_checked(root, files, files_of(entry.outputs))
            kept = [*change.kept, *kept, *(k for k in left if k.file in objects)]
            outcome.deleted += removed_files
            outcome.kept += [(k.file, k.why) for k in kept]
            if not objects and (url := remote_url(entry)) is not None:
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


def _batches(
    removed: list[tuple[Change, LockEntry]],
) -> Iterator[list[tuple[Change, LockEntry]]]:
    """The removed items in runs naming up to MAX_DELETE_KEYS objects (one call) each."""
    batch: list[tuple[Change, LockEntry]] = []
    size = 0
    for change, entry in removed:
        count = len(objects_of(entry.outputs))
        if batch and size + count > MAX_DELETE_KEYS:
            yield batch
            batch, size = [], 0
        batch.append((change, entry))
        size += count
    if batch:
        yield batch


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
