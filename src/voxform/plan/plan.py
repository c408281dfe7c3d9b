"""The plan: a pure function of rendered items and the lockfile."""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, NamedTuple, TypeGuard

from voxform.frozen import maker
from voxform.plan.fingerprint import audio_digest, engine_digest, fingerprint
from voxform.plan.reuse import with_copies
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import Kept, ObjectDigest, Output, objects_of, split_object_url

Action = Literal["create", "update", "copy", "retry", "resume", "delete", "unchanged"]
ACTIONS: tuple[Action, ...] = (
    "create",
    "update",
    "copy",
    "retry",
    "resume",
    "delete",
    "unchanged",
)
SYNTHESIZING: frozenset[Action] = frozenset({"create", "update", "retry"})

REMOVED = "no longer in the manifests"
# The error code of an item whose job finished but whose result could not be written here (a
# subtitle folder that is a symlink, a full disk): the job is kept, to be read again for free.
UNSTORED = "ResultNotStored"
# Settings whose values the lockfile keeps (render/inputs.py), named as a reason shows them.
VOICE_SETTINGS = {
    "voice_id": "voice",
    "volume": "volume",
    "speech_rate": "speech rate",
    "pitch_rate": "pitch rate",
}
OUTPUT_SETTINGS = {"format": "format", "sample_rate": "sample rate", "endpoint": "endpoint"}


class TargetFacts(NamedTuple):
    """What the plan needs to know of a target's provider."""

    kind: str
    engine: str | None
    billed: bool = True  # synthesis is paid for (the local engine is free)
    durable: bool = True  # a finished job can be read again: its subtitles cost nothing
    bucket: str | None = None  # where its audio is kept, when that is a bucket (ICE)
    region: str | None = None  # the bucket's region, as the target names it


@dataclass(frozen=True, slots=True)  # slots: 100,000 of them take a third of the memory
class Change:
    """What plan decided for one item, and why."""

    id: str
    action: Action
    reasons: tuple[str, ...]
    characters: int
    fingerprint: str | None = None
    inputs: Mapping[str, str] | None = None
    rendered: RenderedItem | None = None
    target: str | None = None
    billed: bool = True  # its synthesis is paid for
    deletes: tuple[str, ...] = ()  # project files apply deletes (a `delete`: with --prune)
    kept: tuple[Kept, ...] = ()  # files it leaves, though the lockfile names them
    audio_digest: str | None = None  # of the audio it makes (set when it makes any)
    source: str | None = None  # a `copy`: the item whose recorded audio is copied


@dataclass(frozen=True)
class Plan:
    """Every change, in manifest order, then the deletions of items no manifest names."""

    changes: tuple[Change, ...]

    @property
    def orphans(self) -> tuple[str, ...]:
        """Lockfile ids no manifest names any more (planned as `delete`)."""
        return tuple(c.id for c in self.changes if c.action == "delete")

    @property
    def synthesizing(self) -> tuple[Change, ...]:
        """The changes that produce audio (deletions need `apply --prune`)."""
        return tuple(c for c in self.changes if c.action not in ("unchanged", "delete"))

    @property
    def pending(self) -> tuple[Change, ...]:
        """The changes apply acts on."""
        return tuple(c for c in self.changes if c.action != "unchanged")

    def characters(self, *, billed: bool | None = None) -> int:
        """Characters that apply would synthesize: all, or only the paid (`billed=True`) or
        the free ones (`billed=False`, the local engine)."""
        return sum(
            c.characters
            for c in self.changes
            if c.action in SYNTHESIZING and (billed is None or c.billed == billed)
        )

    def summary(self) -> dict[str, int]:
        """The count of each action and of characters and files, in one pass over 100,000
        changes (as `characters` counts them)."""
        counts = Counter(c.action for c in self.changes)
        result: dict[str, int] = {action: counts.get(action, 0) for action in ACTIONS}
        billed = free = copied = kept = 0
        deleting: Counter[tuple[bool, bool]] = Counter()
        for c in self.changes:
            action = c.action
            if action in SYNTHESIZING:
                if c.billed:
                    billed += c.characters
                else:
                    free += c.characters
            elif action == "copy":
                copied += c.characters  # neither synthesized nor billed: counted apart
            if c.deletes:
                deleting.update(
                    (action == "delete", split_object_url(name) is not None) for name in c.deletes
                )
            if c.kept:
                kept += len(c.kept)
        result["characters"] = billed + free
        result["billed_characters"] = billed
        result["free_characters"] = free
        result["copied_characters"] = copied
        result["files_to_delete"] = deleting[False, False]
        result["files_to_prune"] = deleting[True, False]
        result["files_kept"] = kept
        if deleting[False, True] or deleting[True, True]:  # objects: only when there are any
            result["objects_to_delete"] = deleting[False, True]
            result["objects_to_prune"] = deleting[True, True]
        return result


_change = maker(Change)  # every field, in order: a change for each of 100,000 items


def selected(item_id: str, patterns: Sequence[str]) -> bool:
    """True when no --select was given or `item_id` matches one of the globs."""
    return not patterns or any(fnmatch.fnmatchcase(item_id, p) for p in patterns)


def make_plan(
    rendered: Sequence[RenderedItem],
    lock: LockState,
    providers: Mapping[str, TargetFacts],
    *,
    select: Sequence[str] = (),
    replace: Collection[str] = (),
    drift: Mapping[str, str] = MappingProxyType({}),
    held: Mapping[str, Output | None] = MappingProxyType({}),
) -> Plan:
    """Compare rendered items with the lockfile. `providers` maps target names to their
    facts; `drift` gives finished items whose output files in the project are missing or
    changed, with the reason; `held` what the objects the lockfile names hold now (None:
    nothing), as read from their buckets (a name not in it was not read)."""
    changes: list[Change] = []
    append = changes.append
    entries = lock.items
    present: set[str] = set()
    track = present.add if entries else None  # ids no lockfile entry names need no check
    engines = {name: engine_digest(f.kind, f.engine) for name, f in providers.items()}
    last: tuple[str, TargetFacts, str] | None = None  # the target of the item before
    for item in rendered:
        made = item.item
        item_id = made.id
        if track is not None:
            track(item_id)
        if select and not selected(item_id, select) and item_id not in replace:
            continue
        target = made.settings.target
        if last is None or last[0] != target:
            last = (target, providers[target], engines[target])
        facts = last[1]
        inputs = _inputs(item, last[2])
        prints = item.prints  # kept with its render, when it was for this engine
        if prints is not None and prints[0] == facts.kind and prints[1] == facts.engine:
            current, audio = prints[2], prints[3]
        else:
            current, audio = fingerprint(item, facts.kind, facts.engine), None
        entry = entries.get(item_id) if track is not None else None
        if entry is None:  # a new item: nothing else to look at
            action, reasons = "create", _NEW
        elif (
            entry.fingerprint == current
            and entry.state == "finished"
            and not held
            and item_id not in drift
            and item_id not in replace
        ):  # as _entry_action decides it, without its calls (most items of a plan)
            action, reasons = "unchanged", ()
        else:
            action, reasons, current = _entry_action(
                item, entry, current, inputs, facts, item_id in replace, drift, held
            )
        # Digested only for what apply makes: an unchanged item's costs nothing to plan.
        if action == "unchanged":
            audio = None
        elif audio is None:
            audio = audio_digest(item, facts.kind, facts.engine)
        append(
            _change(
                item_id,
                action,
                reasons,
                item.characters,
                current,
                inputs,
                item,
                target,
                facts.billed,
                (),
                (),
                audio,
                None,
            )
        )
    for key in sorted(lock.items):
        if key not in present and selected(key, select):
            changes.append(Change(key, "delete", (REMOVED,), 0))
    return Plan(tuple(with_copies(changes, lock, providers, replace)))


def _entry_action(
    item: RenderedItem,
    entry: LockEntry,
    current: str,
    inputs: Mapping[str, str],
    facts: TargetFacts,
    forced: bool,
    drift: Mapping[str, str],
    held: Mapping[str, Output | None],
) -> tuple[Action, tuple[str, ...], str]:
    """What to do with an item the lockfile has an entry for, why, and its fingerprint."""
    if (
        entry.fingerprint != current
        and item.legacy_input is not None
        and entry.fingerprint == fingerprint(item, facts.kind, facts.engine, legacy=True)
    ):
        current = entry.fingerprint  # recorded before SSML was canonical: the same audio
    action, reasons = _decide(entry, current, inputs, forced)
    gone = object_drift(entry, held) if action == "unchanged" and held else None
    if gone is not None:
        action, reasons = "update", (gone,)  # reading the job again restores no object
    elif action == "unchanged" and item.id in drift:
        action, reasons = _rebuild(entry, drift[item.id], facts)
    elif unstored(entry) and action == "retry" and not forced:
        action, reasons = _rebuild(entry, reasons[0], facts, otherwise="retry")
    return action, reasons, current


class _Inputs(Mapping[str, str]):
    """An item's inputs as the lockfile keeps them (its digests and its engine's), put
    together when first read: of the 100,000 items of a plan, most never are."""

    __slots__ = ("_engine", "_rendered", "_spelt")

    def __init__(self, rendered: RenderedItem, engine: str) -> None:
        self._rendered = rendered
        self._engine = engine
        self._spelt: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        spelt = self._spelt
        if spelt is None:
            spelt = self._spelt = {**self._rendered.digests, "engine": self._engine}
        return spelt

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


_SET_RENDERED = _Inputs.__dict__["_rendered"].__set__
_SET_ENGINE = _Inputs.__dict__["_engine"].__set__
_SET_SPELT = _Inputs.__dict__["_spelt"].__set__


def _inputs(rendered: RenderedItem, engine: str) -> _Inputs:
    """_Inputs(rendered, engine), without a call of __init__ (one for each item planned)."""
    inputs: _Inputs = object.__new__(_Inputs)
    _SET_RENDERED(inputs, rendered)
    _SET_ENGINE(inputs, engine)
    _SET_SPELT(inputs, None)
    return inputs


def object_drift(entry: LockEntry | None, held: Mapping[str, Output | None]) -> str | None:
    """Why a finished entry's objects are not what it records, naming the first such
    object (`object missing: oss://B/K` or `object changed: oss://B/K`: another ETag or
    size, or CRC-64 when both know it), or None when all read are as recorded."""
    if entry is None or entry.state != "finished":
        return None
    for name, recorded in objects_of(entry.outputs).items():
        if name not in held:
            continue
        found = held[name]
        if found is None:
            return f"object missing: {name}"
        if not isinstance(found, ObjectDigest) or not recorded.same_object(found):
            return f"object changed: {name}"
    return None


def unstored(entry: LockEntry | None) -> TypeGuard[LockEntry]:
    """Whether `entry` is a job that finished but whose result could not be written here."""
    return entry is not None and entry.state == "failed" and entry.error_code == UNSTORED


def _rebuild(
    entry: LockEntry, reason: str, facts: TargetFacts, otherwise: Action = "update"
) -> tuple[Action, tuple[str, ...]]:
    """An item whose files drifted, or were never written after its job finished: a job the
    service keeps is read again (its subtitles rewritten, nothing paid); otherwise the audio
    is made again."""
    if facts.durable and entry.job_id:
        return "resume", (f"{reason}; read again from job {entry.job_id}, nothing is synthesized",)
    return otherwise, (reason,)


_NEW: tuple[str, ...] = ("new item",)


def _decide(
    entry: LockEntry, current: str, inputs: Mapping[str, str], forced: bool
) -> tuple[Action, tuple[str, ...]]:
    same = entry.fingerprint == current
    if entry.state == "pending" and same:
        if entry.job_id is None:
            return "resume", (
                "a submission may have reached the service without its job id being recorded; "
                "apply looks it up by its token before sending anything",
            )
        return "resume", (f"job {entry.job_id} was submitted; its result is not recorded yet",)
    if entry.state == "failed" and same:
        detail = ": ".join(p for p in (entry.error_code, entry.error_message) if p)
        return "retry", (f"last attempt failed{': ' + detail if detail else ''}",)
    if same:
        if forced:
            return "update", ("replacement requested",)
        return "unchanged", ()
    return "update", tuple(why(entry.inputs, inputs)) or ("fingerprint format changed",)


def why(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """What differs between the inputs recorded and the current ones, as exactly as the
    record allows: an older lockfile without a value gives the general reason."""

    def changed(key: str) -> bool:
        return key in old and key in new and old[key] != new[key]

    def values(table: Mapping[str, str]) -> list[str]:
        return [f"{label} {old[k]} -> {new[k]}" for k, label in table.items() if changed(k)]

    reasons = []
    if changed("source"):
        reasons.append("text changed")
    elif changed("text"):
        reasons.append("lexicon changed" if "source" in old else "text changed")
    if changed("template"):
        reasons.append(f"template {old['template']} -> {new['template']}")
    elif changed("ssml") and not reasons:
        reasons.append("template output changed")
    voice = values(VOICE_SETTINGS)
    reasons += voice or (["voice changed"] if changed("voice") else [])
    output = values(OUTPUT_SETTINGS)
    reasons += output
    if changed("location") or (changed("output") and not output and "location" not in old):
        reasons.append("output location changed")
    if changed("engine"):
        reasons.append("engine changed")
    return reasons
