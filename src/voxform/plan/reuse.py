"""Content-addressed reuse: a planned create or update whose audio is already recorded is a
`copy` of that audio, which costs no synthesis.

Two items with the same audio digest (the fingerprint without the output place) sound the
same, so a renamed source file, a moved item or a duplicated line can be copied from what
the lockfile records: a CopyObject within the bucket for ICE, a file copy for a local
target. The digest leaves the region out (the same audio anywhere), so a bucket is checked
here: OSS copies within one bucket, and only a bucket all of whose targets name one region
is trusted to be in it.

A source is a finished entry whose audio output is still recorded and that this plan does
not change: unchanged, not selected, or deleted (a rename's old id: apply copies before it
prunes). Among the candidates the smallest id is chosen, so the same inputs plan the same
copies. The lockfile is indexed by audio digest once per plan, and only when some change
could be a copy.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import files_of, objects_of, split_object_url

if TYPE_CHECKING:
    from voxform.plan.plan import Change, TargetFacts

COPYABLE = frozenset({"create", "update"})
SYNTHESIZING = frozenset({"create", "update", "retry"})  # plan.SYNTHESIZING, not imported
# What a source's own change may be: its recorded audio stays where it is until copies end.
STEADY = frozenset({"unchanged", "delete"})


def recorded_audio(lock: LockState) -> dict[str, list[str]]:
    """Ids of finished entries with recorded outputs, by audio digest, smallest id first."""
    index: dict[str, list[str]] = {}
    for key in sorted(lock.items):
        entry = lock.items[key]
        if entry.state == "finished" and entry.audio_digest and entry.outputs:
            index.setdefault(entry.audio_digest, []).append(key)
    return index


def audio_output(entry: LockEntry) -> str | None:
    """The name of an entry's recorded audio: its object, or its audio file (a local
    target's `url`, recorded with a digest); None when none is recorded."""
    objects = objects_of(entry.outputs)
    if objects:
        return min(objects)
    if entry.url and entry.url in files_of(entry.outputs):
        return entry.url
    return None


def with_copies(
    changes: list[Change],
    lock: LockState,
    providers: Mapping[str, TargetFacts],
    forced: Collection[str] = (),
) -> list[Change]:
    """`changes` with each create or update whose audio is recorded for another item made
    a `copy` of it, or else, when another change of this plan makes the same audio (a
    duplicated line), a copy of what that one makes. A --replace is never a copy: its
    audio is to be made again."""
    wanting = [
        index
        for index, change in enumerate(changes)
        if change.action in COPYABLE and change.audio_digest and change.id not in forced
    ]
    if not wanting:
        return changes
    regions: dict[str, set[str | None]] = {}
    for facts in providers.values():
        if facts.bucket is not None:
            regions.setdefault(facts.bucket, set()).add(facts.region)
    index = recorded_audio(lock)
    acting = {change.id: change.action for change in changes} if index else {}
    result = list(changes)
    by_target: dict[str | None, str | None] = {}  # a place depends on its target alone

    def destination(change: Change) -> str | None:
        if change.rendered is None:
            return None
        target = change.target
        if target not in by_target:
            by_target[target] = _destination(change, providers, regions)
        return by_target[target]

    for at in wanting if index else ():
        change = result[at]
        sources = index.get(change.audio_digest or "")
        if not sources:
            continue
        place = destination(change)
        for source in sources if place is not None else ():
            if source == change.id or acting.get(source, "unchanged") not in STEADY:
                continue
            if _recorded_place(lock.items[source]) == place:
                result[at] = replace(change, action="copy", source=source)
                break
    # What this plan makes once, each other change of the same audio and place copies
    # (apply copies it once it is made).
    makers: dict[tuple[str, str], str] = {}
    shared = False  # whether two changes make the same audio in the same place
    made = [c.audio_digest for c in result if c.audio_digest and c.action in SYNTHESIZING]
    for change in result if len(set(made)) < len(made) else ():  # else no audio made twice
        if change.action in SYNTHESIZING and change.audio_digest:
            place = destination(change)
            if place is not None:
                first = makers.setdefault((change.audio_digest, place), change.id)
                shared = shared or first != change.id
    for at in wanting if shared else ():  # else each change is its audio's only maker
        change = result[at]
        if change.action == "copy":
            continue
        place = destination(change)
        if place is None:
            continue
        maker = makers.get((change.audio_digest or "", place))
        if maker is not None and maker != change.id:
            result[at] = replace(change, action="copy", source=maker)
    return result


def _destination(
    change: Change, providers: Mapping[str, TargetFacts], regions: Mapping[str, set[str | None]]
) -> str | None:
    """Where `change` writes its audio, as far as a copy cares: "" for project files, a
    bucket's name for objects; None for a bucket whose region is in doubt (targets naming
    it name different regions)."""
    facts = providers.get(change.target or "")
    if facts is None or change.rendered is None:
        return None
    if facts.bucket is None:
        return ""
    bucket = facts.bucket  # its request's (render/assemble.py: request_for), not read from it
    return bucket if regions.get(bucket, {facts.region}) == {facts.region} else None


def _recorded_place(entry: LockEntry) -> str | None:
    """Where `entry`'s recorded audio is, in `_destination`'s terms; None when unknown."""
    name = audio_output(entry)
    if name is None:
        return None
    place = split_object_url(name)
    return "" if place is None else place[0]
