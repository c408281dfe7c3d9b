"""What a plan deletes, decided from evidence and shown before anything goes.

Two kinds of change delete files: a removed item (`delete`, acted on with `apply --prune`)
and an update whose output moved or changed format (the files it no longer uses). The
lockfile alone never decides: a file is deleted only when it is a plain project path with an
output suffix, inside its target's own output or subtitle folders (any target's, for a
removed item, whose target the lockfile does not record), recorded with a digest that its
bytes still match, reached through no symlink, and no other item records or writes it.
Everything else is kept and said why, in the plan, before apply.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from voxform.manifest.model import Target
from voxform.plan.plan import SYNTHESIZING, Plan
from voxform.providers.registry import provider_for
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import (
    Kept,
    StatCache,
    files_of,
    kept_by_rule,
    kept_on_disk,
    objects_of,
)

ANOTHER_ITEMS = "another item records or writes it"


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


def with_deletions(
    plan: Plan,
    rendered: Sequence[RenderedItem],
    lock: LockState,
    targets: Mapping[str, Target],
    root: Path,
    cache_path: Path | None,
) -> Plan:
    """`plan` with each change's files to delete and files kept (and why). Only changes
    that leave files behind are looked at, so an ordinary plan reads no file here."""
    own = {name: folders(target) for name, target in targets.items()}
    everywhere = tuple(sorted({f for fs in own.values() for f in fs}))
    candidates: list[tuple[int, LockEntry, list[str], tuple[str, ...]]] = []
    for index, change in enumerate(plan.changes):
        entry = lock.items.get(change.id)
        if entry is None:
            continue
        if change.action == "delete":
            names, allowed = recorded_files(entry), everywhere
        elif (
            change.action in SYNTHESIZING
            and change.rendered is not None
            and (target := targets.get(change.target or "")) is not None
        ):
            new = set(output_files(target, change.rendered))
            names = [n for n in recorded_files(entry) if n not in new]
            allowed = own[target.name]
        else:
            continue
        if names:
            candidates.append((index, entry, names, allowed))
    if not candidates:
        return plan
    owners = _owners(rendered, lock, targets)
    real_root = root.resolve()
    cache = StatCache(cache_path, root=root)
    changes = list(plan.changes)
    for index, entry, names, allowed in candidates:
        change = changes[index]
        deletes: list[str] = []
        kept: list[Kept] = []
        for name in names:
            recorded = files_of(entry.outputs).get(name)
            why = kept_by_rule(name, recorded, allowed)
            if why is None and owners.get(name, set()) - {change.id}:
                why = Kept(name, ANOTHER_ITEMS, True)
            if why is not None:
                kept.append(why)
                continue
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
        target = targets.get(item.item.settings.target)
        if target is not None:
            names += output_files(target, item)
        for name in names:
            owners.setdefault(name, set()).add(item.id)
    return owners
