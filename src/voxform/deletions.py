"""What a plan deletes, decided from evidence and shown before anything goes.

Two kinds of change delete files: a removed item (`delete`, acted on with `apply --prune`)
and an update whose output moved or changed format (the files it no longer uses). The
lockfile alone never decides: a file is deleted only when it is a plain project path with an
output suffix, inside its target's own output or subtitle folders (any target's, for a
removed item, whose target the lockfile does not record), recorded with a digest that its
bytes still match, reached through no symlink, and no other item records or writes it.
Everything else is kept and said why, in the plan, before apply.

Objects (`oss://BUCKET/KEY`) go the same way: deleted only when the lockfile records them
(ETag and size), a target of the project reaches their bucket, no other item records or
writes them, and, when the buckets were read for this plan, they still hold what was
recorded. One gone already needs nothing; one replaced since is left where it is for good.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

from voxform.manifest.model import Target
from voxform.plan.plan import SYNTHESIZING, Plan
from voxform.providers.registry import provider_for
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import (
    Kept,
    ObjectDigest,
    Output,
    StatCache,
    files_of,
    kept_by_rule,
    kept_on_disk,
    object_url,
    objects_of,
    split_object_url,
)

ANOTHER_ITEMS = "another item records or writes it"
REPLACED = "changed since voxform wrote it (not the ETag and size recorded): left in the bucket"


def remote_url(entry: LockEntry) -> str | None:
    """The entry's audio when it lives at the service, not in the project: the object its
    `outputs` record (`oss://BUCKET/KEY`), else the service's URL of it. An entry's url is
    a project file when its `outputs` record it as one; only an entry from before outputs
    were recorded is told by the url's form."""
    objects = objects_of(entry.outputs)
    if objects:
        return next(iter(objects))
    if not entry.url or entry.url in files_of(entry.outputs):
        return None
    return entry.url if "://" in entry.url else None


def recorded_files(entry: LockEntry) -> list[str]:
    """The project files an entry names: its audio (for a local target), its subtitles and
    the files its `outputs` record, each once, in that order."""
    names = [entry.url] if entry.url and remote_url(entry) is None else []
    names += [*(entry.subtitles or {}).values(), *files_of(entry.outputs)]
    return list(dict.fromkeys(names))


def folders(target: Target) -> tuple[str, ...]:
    """The project folders that `target`'s outputs go to (its audio and subtitles)."""
    return (posixpath.normpath(provider_for(target).subtitle_dir(target)),)


def output_files(target: Target, item: RenderedItem) -> tuple[str, ...]:
    """The project files `item` writes when it finishes."""
    return provider_for(target).output_files(target, item.request)


def audio_object(target: Target, item: RenderedItem) -> str | None:
    """The object `item`'s audio goes to when its target keeps audio in a bucket."""
    if provider_for(target).files_in_project or not target.bucket:
        return None
    return object_url(item.request.bucket or target.bucket, item.request.audio_key())


def object_evidence(
    name: str,
    recorded: Output | None,
    buckets: Collection[str],
    held: Mapping[str, Output | None] | None,
) -> Kept | Literal["delete", "gone"]:
    """What deleting object `name` may do: "delete" (while it is still `recorded`: apply
    looks again just before), "gone" when the bucket read for this plan has no such
    object, else why it stays. `held`: what the objects hold now, None when not read."""
    parts = split_object_url(name)
    if parts is None or not isinstance(recorded, ObjectDigest):
        return Kept(name, "not an object voxform recorded", True)
    if parts[0] not in buckets:
        return Kept(name, f"no target of the project reaches bucket {parts[0]}", False)
    if held is None or name not in held:
        return "delete"
    found = held[name]
    if found is None:
        return "gone"
    if not isinstance(found, ObjectDigest) or not recorded.same_object(found):
        return Kept(name, REPLACED, True)
    return "delete"


def with_deletions(
    plan: Plan,
    rendered: Sequence[RenderedItem],
    lock: LockState,
    targets: Mapping[str, Target],
    root: Path,
    cache_path: Path | None,
    held: Mapping[str, Output | None] | None = None,
) -> Plan:
    """`plan` with each change's files and objects to delete and those kept (and why).
    Only changes that leave outputs behind are looked at, so an ordinary plan reads no
    file here. `held`: what the objects hold now (None: the buckets were not read)."""
    own = {name: folders(target) for name, target in targets.items()}
    everywhere = tuple(sorted({f for fs in own.values() for f in fs}))
    candidates: list[tuple[int, LockEntry, list[str], tuple[str, ...]]] = []
    for index, change in enumerate(plan.changes):
        entry = lock.items.get(change.id)
        if entry is None:
            continue
        if change.action == "delete":
            names, allowed = [*recorded_files(entry), *objects_of(entry.outputs)], everywhere
        elif (
            change.action in SYNTHESIZING
            and change.rendered is not None
            and (target := targets.get(change.target or "")) is not None
        ):
            new = {*output_files(target, change.rendered), audio_object(target, change.rendered)}
            names = [n for n in recorded_files(entry) if n not in new]
            names += [n for n in objects_of(entry.outputs) if n not in new]
            allowed = own[target.name]
        else:
            continue
        if names:
            candidates.append((index, entry, names, allowed))
    if not candidates:
        return plan
    owners = _owners(rendered, lock, targets)
    buckets = {
        t.bucket for t in targets.values() if t.bucket and not provider_for(t).files_in_project
    }
    real_root = root.resolve()
    cache = StatCache(cache_path, root=root)
    changes = list(plan.changes)
    for index, entry, names, allowed in candidates:
        change = changes[index]
        deletes: list[str] = []
        kept: list[Kept] = []
        objects = objects_of(entry.outputs)
        for name in names:
            recorded = files_of(entry.outputs).get(name)
            why = None if name in objects else kept_by_rule(name, recorded, allowed)
            if why is None and owners.get(name, set()) - {change.id}:
                why = Kept(name, ANOTHER_ITEMS, True)
            if why is not None:
                kept.append(why)
                continue
            if name in objects:
                found = object_evidence(name, objects[name], buckets, held)
            else:
                assert recorded is not None  # kept_by_rule keeps a file with no digest
                found = kept_on_disk(real_root, name, recorded, cache)
            if found == "delete":
                deletes.append(name)
            elif isinstance(found, Kept):
                kept.append(found)
        changes[index] = replace(change, deletes=tuple(deletes), kept=tuple(kept))
    cache.save()
    return Plan(tuple(changes))


def _owners(
    rendered: Sequence[RenderedItem], lock: LockState, targets: Mapping[str, Target]
) -> dict[str, set[str]]:
    """Each project file that an item the manifests name records or will write, with the
    ids of those items: never deleted on behalf of another item."""
    owners: dict[str, set[str]] = {}
    for item in rendered:
        entry = lock.items.get(item.id)
        names = recorded_files(entry) if entry is not None else []
        names += objects_of(entry.outputs) if entry is not None else []
        target = targets.get(item.item.settings.target)
        if target is not None:
            names += output_files(target, item)
            if (audio := audio_object(target, item)) is not None:
                names.append(audio)
        for name in names:
            owners.setdefault(name, set()).add(item.id)
    return owners
