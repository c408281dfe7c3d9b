"""The plan: a pure function of rendered items and the lockfile."""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from voxform.plan.fingerprint import engine_digest, fingerprint
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry, LockState

Action = Literal["create", "update", "retry", "resume", "delete", "unchanged"]
ACTIONS: tuple[Action, ...] = ("create", "update", "retry", "resume", "delete", "unchanged")
SYNTHESIZING: frozenset[Action] = frozenset({"create", "update", "retry"})

REMOVED = "no longer in the manifests"
REASONS = {
    "text": "text changed",
    "ssml": "template output changed",
    "voice": "voice changed",
    "output": "output location changed",
    "engine": "engine changed",
}


@dataclass(frozen=True)
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

    def characters(self) -> int:
        """Characters that apply would pay to synthesize."""
        return sum(c.characters for c in self.changes if c.action in SYNTHESIZING)

    def summary(self) -> dict[str, int]:
        counts = Counter(c.action for c in self.changes)
        result: dict[str, int] = {action: counts.get(action, 0) for action in ACTIONS}
        result["characters"] = self.characters()
        return result


def selected(item_id: str, patterns: Sequence[str]) -> bool:
    """True when no --select was given or `item_id` matches one of the globs."""
    return not patterns or any(fnmatch.fnmatchcase(item_id, p) for p in patterns)


def make_plan(
    rendered: Sequence[RenderedItem],
    lock: LockState,
    providers: Mapping[str, tuple[str, str | None]],
    *,
    select: Sequence[str] = (),
    replace: Collection[str] = (),
    missing: Collection[str] = (),
) -> Plan:
    """Compare rendered items with the lockfile. `providers` maps target -> (kind, engine);
    `missing` names finished items whose local output file is gone."""
    changes = []
    present = set()
    for item in rendered:
        present.add(item.id)
        if not selected(item.id, select) and item.id not in replace:
            continue
        kind, engine = providers[item.item.settings.target]
        inputs = dict(item.digests)
        inputs["engine"] = engine_digest(kind, engine)
        current = fingerprint(item, kind, engine)
        action, reasons = _decide(lock.items.get(item.id), current, inputs, item.id in replace)
        if action == "unchanged" and item.id in missing:
            action, reasons = "update", ("output file missing",)
        changes.append(
            Change(
                item.id,
                action,
                reasons,
                item.characters,
                current,
                inputs,
                item,
                item.item.settings.target,
            )
        )
    for key in sorted(lock.items):
        if key not in present and selected(key, select):
            changes.append(Change(key, "delete", (REMOVED,), 0))
    return Plan(tuple(changes))


def _decide(
    entry: LockEntry | None, current: str, inputs: Mapping[str, str], forced: bool
) -> tuple[Action, tuple[str, ...]]:
    if entry is None:
        return "create", ("new item",)
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
    changed = [key for key in REASONS if entry.inputs.get(key) != inputs.get(key)]
    if "text" in changed and "ssml" in changed:
        changed.remove("ssml")
    reasons = tuple(REASONS[k] for k in changed) or ("fingerprint format changed",)
    return "update", reasons
