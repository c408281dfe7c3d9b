"""What the buckets hold now, read for `plan`: each object the lockfile names, with as
few calls as OSS allows.

The plan is a pure function; this is the caller's half of it, as the stat cache is for
files. The objects are grouped by the target that reaches their bucket and the target's
prefix they lie under; each group is one ListObjectsV2 page per 1,000 objects (a lone
object is one HeadObject), paced and retried as apply's calls are. An object whose bucket
no target of the project names cannot be reached, and is not read. A bucket that cannot
be read stops the plan with one error that says how to plan without it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence

from voxform.apply.holdings import paced_storages, remote_targets
from voxform.errors import VoxformError
from voxform.manifest.model import Project
from voxform.oss.documents import MAX_DELETE_KEYS
from voxform.plan.plan import selected
from voxform.providers.oss_storage import survey
from voxform.providers.protocol import Storage
from voxform.state.lockfile import LockState
from voxform.state.outputs import Kept, ObjectDigest, Output, split_object_url

# A plan waits this long at most through throttling and transient errors of one bucket.
READ_DEADLINE = 60.0
NOT_READ = (
    "the buckets were not read (--no-refresh): an object deleted or replaced there since"
    " apply recorded it is not shown"
)

UNREACHED = "no target of the project reaches its bucket"

Group = tuple[str, str]  # target, the prefix (of the lockfile's names) its objects share


def placed(project: Project, names: Iterable[str]) -> dict[Group, list[str]]:
    """`names` (`oss://BUCKET/KEY`) by the target that reaches their bucket and the
    longest of those targets' prefixes they lie under (the object's folder when none);
    names no target can reach are left out."""
    # per bucket, its targets in the order they are tried: the longest prefix first
    by_bucket: dict[str, list[tuple[int, str, str]]] = {}
    for target in remote_targets(project):
        settings = project.targets[target]
        if settings.bucket:
            by_bucket.setdefault(settings.bucket, []).append(
                (-len(settings.prefix), target, settings.prefix)
            )
    for tried in by_bucket.values():
        tried.sort()
    groups: dict[Group, list[str]] = {}
    lone: dict[str, tuple[str, list[str]]] = {}  # a bucket one target reaches: its group
    for name in names:
        parts = split_object_url(name)
        reaching = by_bucket.get(parts[0]) if parts is not None else None
        if parts is None or not reaching:
            continue
        bucket, key = parts
        if len(reaching) == 1 and key.startswith(reaching[0][2]):  # the usual case, quickly
            found = lone.get(bucket)
            if found is None:
                _, target, prefix = reaching[0]
                group = groups.setdefault((target, f"oss://{bucket}/{prefix}"), [])
                found = lone[bucket] = (prefix, group)
            found[1].append(name)
            continue
        under = next(((t, p) for _, t, p in reaching if key.startswith(p)), None)
        if under is not None:
            target, prefix = under
        else:  # under none of them: the first target by name, the object's folder
            _, target, _ = min(reaching, key=lambda found: (found[1], found[2]))
            prefix = key.rpartition("/")[0]
        groups.setdefault((target, f"oss://{bucket}/{prefix}"), []).append(name)
    return groups


def named_objects(lock: LockState, select: Sequence[str] = ()) -> list[str]:
    """The objects the lockfile's entries name (of the ids `select` picks), once each."""
    names: dict[str, None] = {}
    for item_id, entry in lock.items.items():
        outputs = entry.outputs
        if outputs and (not select or selected(item_id, select)):
            for name, output in outputs.items():
                if type(output) is ObjectDigest:
                    names[name] = None
    return list(names)


def read_held(
    project: Project,
    lock: LockState,
    *,
    select: Sequence[str] = (),
    profile: str | None = None,
) -> dict[str, Output | None]:
    """What each object the lockfile names holds now (None: nothing there), for the ids
    `select` picks; VoxformError, suggesting --no-refresh, when a bucket cannot be read.
    No object named: nothing opened, no credentials loaded."""
    groups = placed(project, named_objects(lock, select))
    if not groups:
        return {}
    held: dict[str, Output | None] = {}
    target = ""
    try:
        with paced_storages(
            project, sorted({t for t, _ in groups}), profile, READ_DEADLINE
        ) as storages:
            for (target, _), names in sorted(groups.items()):
                held.update(survey(storages[target], names, heads_at_most=1))
    except VoxformError as error:
        bucket = project.targets[target].bucket if target else None
        where = f"bucket {bucket!r} of target {target!r}" if bucket else "the buckets"
        raise VoxformError(
            f"cannot read what {where} holds: {error} (pass --no-refresh to plan"
            " without reading the buckets)"
        ) from None
    return held


class Deleter:
    """Deletes objects that still hold what the lockfile records, up to 1,000 a call,
    opening each target's storage on first use; what could not be deleted is kept, with
    why, never raised (the results of a run are saved whatever OSS answers)."""

    def __init__(self, project: Project, profile: str | None) -> None:
        self.project = project
        self.profile = profile
        self._stack = contextlib.ExitStack()
        self._storages: dict[str, Storage] = {}

    def __enter__(self) -> Deleter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def __call__(self, recorded: Mapping[str, Output]) -> tuple[list[str], list[Kept]]:
        """Delete each of `recorded` that still holds what is recorded for it: the names
        deleted, and those kept with why (one replaced since: for good; one OSS could not
        be asked about: for now). One already gone is neither."""
        deleted: list[str] = []
        kept: list[Kept] = []
        groups = placed(self.project, recorded)
        reached = {name for names in groups.values() for name in names}
        kept += [Kept(n, UNREACHED, False) for n in recorded if n not in reached]
        for (target, _), names in sorted(groups.items()):
            for start in range(0, len(names), MAX_DELETE_KEYS):
                chunk = names[start : start + MAX_DELETE_KEYS]
                try:
                    done = self._storage(target).delete_many_if_match(
                        {n: recorded[n] for n in chunk}
                    )
                except VoxformError as error:
                    kept += [Kept(n, f"not deleted: {error}", False) for n in chunk]
                    continue
                deleted += done.deleted
                kept += [Kept(n, why, True) for n, why in done.kept]
        return deleted, kept

    def _storage(self, target: str) -> Storage:
        if target not in self._storages:
            opened = paced_storages(self.project, [target], self.profile, READ_DEADLINE)
            self._storages.update(self._stack.enter_context(opened))
        return self._storages[target]
