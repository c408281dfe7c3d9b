"""What the targets hold, recorded: each finished ICE item's object (size, ETag) in its
lockfile entry's `outputs`, read from the bucket with as few calls as possible.

A local target records its files as it writes them; an ICE job writes into a bucket, so
what it wrote is read afterwards: one ListObjectsV2 page covers 1,000 objects, a
HeadObject (which also tells the CRC-64) is spent only when a few are wanted. Apply does
this at its end for every finished item whose object is not recorded yet, which covers
items finished before objects were recorded too; `refresh` does it also when nothing is
pending. An object not found is left unrecorded: whether it is missing is drift's question.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from voxform.apply.paced_storage import PacedStorage
from voxform.apply.retry import LONGEST_WAIT
from voxform.errors import ProviderError, VoxformError
from voxform.manifest.model import Project
from voxform.providers.oss_storage import survey
from voxform.providers.protocol import Storage
from voxform.providers.registry import open_storages, provider_for
from voxform.render.model import RenderedItem
from voxform.state.journal import Journal
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import ObjectDigest, objects_of, recordable

# Reading objects after a run is bookkeeping: an OSS outage delays the end of apply by this
# much at most, and what is not read now is read by the next apply or refresh.
RECORD_DEADLINE = 60.0
# Pages of a bucket's listing per second unless the target states a limit: OSS serves
# thousands of calls a second per bucket (copies.py starts copies the same way), and the
# modest start of an unknown limit (10 a second) cost a second per 10,000 objects read.
LIST_OPERATION, LIST_RATE = "ListObjectsV2", 100.0


@dataclass
class Recorded:
    """What a pass over the targets found."""

    recorded: list[str] = field(default_factory=list)  # items whose object is now recorded
    not_found: list[str] = field(default_factory=list)  # items whose object was not there
    error: str | None = None  # why a target could not be read (its items wait for next time)


def remote_targets(project: Project) -> list[str]:
    """The targets whose audio is kept outside the project (ICE's buckets)."""
    return [n for n, t in project.targets.items() if not provider_for(t).files_in_project]


@contextlib.contextmanager
def paced_storages(
    project: Project, names: Sequence[str], profile: str | None, deadline: float = LONGEST_WAIT
) -> Iterator[dict[str, Storage]]:
    """The storages of `names`, each call paced by the target's rate limits and retried
    through transient errors for `deadline` seconds."""
    with open_storages(project, names, profile=profile) as storages:
        yield {
            name: PacedStorage(
                storage,
                {LIST_OPERATION: LIST_RATE, **project.targets[name].rate_limits},
                deadline=deadline,
            )
            for name, storage in storages.items()
        }


def record_objects(
    rendered: Sequence[RenderedItem],
    lock: LockState,
    storages: Mapping[str, Storage],
    record: Callable[[str, LockEntry | None], None],
) -> Recorded:
    """Read and record the object of each finished item of a target in `storages` whose
    object its entry does not name yet (`lock` and `record`, the journal, updated). Only
    an entry made for the item's present output place is completed: an entry older than a
    format or prefix change names another key."""
    wanted: dict[str, dict[str, str]] = {}  # target -> object name -> item id
    for item in rendered:
        entry = lock.items.get(item.id)
        storage = storages.get(item.item.settings.target)
        if (
            storage is None
            or entry is None
            or entry.state != "finished"
            or entry.inputs.get("output") != item.digests.get("output")
        ):
            continue
        name = storage.audio_name(item.request)
        if name not in (entry.outputs or {}):
            wanted.setdefault(item.item.settings.target, {})[name] = item.id
    done = Recorded()
    for target, names in sorted(wanted.items()):
        try:
            found = survey(storages[target], list(names))
        except (ProviderError, VoxformError) as error:
            done.error = done.error or f"objects of target {target!r} not recorded: {error}"
            continue
        for name, digest in found.items():
            item_id = names[name]
            if not isinstance(digest, ObjectDigest) or not recordable(digest):
                done.not_found.append(item_id)
                continue
            entry = lock.items[item_id]
            lock.items[item_id] = new = replace(
                entry, outputs={**(entry.outputs or {}), name: digest}
            )
            record(item_id, new)
            done.recorded.append(item_id)
    return done


def record_all(
    project: Project,
    rendered: Sequence[RenderedItem],
    lock: LockState,
    record: Callable[[str, LockEntry | None], None],
    profile: str | None,
    targets: Collection[str] | None = None,
) -> Recorded:
    """`record_objects` over the remote targets of `project` (those of `targets`, when
    given), opening their storages;
    an endpoint or credential that cannot be used is told in `error`, never raised, so
    that the results of a run are saved whatever OSS answers."""
    names = [n for n in remote_targets(project) if targets is None or n in targets]
    wanted = set(names)
    if not any(_unrecorded(item, lock, wanted) for item in rendered):
        return Recorded()  # nothing to read: no credentials loaded, no connection made
    try:
        with paced_storages(project, names, profile, RECORD_DEADLINE) as storages:
            return record_objects(rendered, lock, storages, record)
    except VoxformError as error:
        return Recorded(error=f"objects not recorded: {error}")


def _unrecorded(item: RenderedItem, lock: LockState, targets: Collection[str]) -> bool:
    """Whether `item` finished at one of `targets` with no object recorded for it."""
    entry = lock.items.get(item.id)
    return (
        entry is not None
        and entry.state == "finished"
        and item.item.settings.target in targets
        and entry.inputs.get("output") == item.digests.get("output")
        and not objects_of(entry.outputs)
    )


def refresh_objects(
    project: Project,
    rendered: Sequence[RenderedItem],
    journal: Journal,
    lock: LockState,
    profile: str | None,
) -> Recorded:
    """`record_all` with its own journal, for a refresh that has no job to follow."""
    journal.open()
    try:
        done = record_all(project, rendered, lock, journal.record, profile)
    except BaseException:
        journal.close(None)
        raise
    journal.close(lock)
    return done
