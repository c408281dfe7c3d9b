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
    a `copy` of it (a --replace is never copied: the audio is to be made again)."""
    wanting = [
        index
        for index, change in enumerate(changes)
        if change.action in COPYABLE and change.audio_digest and change.id not in forced
    ]
    if not wanting:
        return changes
    index = recorded_audio(lock)
    if not index:
        return changes
    acting = {change.id: change.action for change in changes}
    regions: dict[str, set[str | None]] = {}
    for facts in providers.values():
        if facts.bucket is not None:
            regions.setdefault(facts.bucket, set()).add(facts.region)
    result = list(changes)
    for at in wanting:
        change = result[at]
        for source in index.get(change.audio_digest or "", ()):
            if source == change.id or acting.get(source, "unchanged") not in STEADY:
                continue
            if not _fits(lock.items[source], change, providers, regions):
                continue
            result[at] = replace(change, action="copy", source=source)
            break
    return result


def _fits(
    entry: LockEntry,
    change: Change,
    providers: Mapping[str, TargetFacts],
    regions: Mapping[str, set[str | None]],
) -> bool:
    """Whether `entry`'s recorded audio can be copied to where `change` writes."""
    facts = providers.get(change.target or "")
    name = audio_output(entry)
    if facts is None or name is None or change.rendered is None:
        return False
    place = split_object_url(name)
    if place is None:  # a project file: for a target whose audio is files too
        return facts.bucket is None
    bucket = change.rendered.request.bucket or facts.bucket
    return bucket == place[0] and regions.get(place[0]) == {facts.region}
