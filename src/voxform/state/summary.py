"""What the lockfile says, summed up for `voxform status`: a pure function of the state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from voxform.state.lockfile import LockState

STATES = ("finished", "pending", "failed")
ORPHANED = "(no longer in the manifests)"


@dataclass(frozen=True)
class Summary:
    """Items per state and per target, what the finished ones cost, and what is open."""

    items: int
    states: dict[str, int]
    targets: dict[str, dict[str, int]]
    characters: int  # of finished items
    audio_seconds: float
    pending: list[tuple[str, str | None]] = field(default_factory=list)  # id, job id
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # id, code, message


def summarize(lock: LockState, targets: Mapping[str, str]) -> Summary:
    """Sum up `lock`; `targets` maps the ids the manifests still name to their targets."""
    states: Counter[str] = Counter()
    per_target: dict[str, Counter[str]] = {}
    characters, audio = 0, 0.0
    pending: list[tuple[str, str | None]] = []
    failed: list[tuple[str, str, str]] = []
    for key in sorted(lock.items):
        entry = lock.items[key]
        states[entry.state] += 1
        per_target.setdefault(targets.get(key, ORPHANED), Counter())[entry.state] += 1
        if entry.state == "finished":
            characters += entry.characters
            audio += entry.duration or 0.0
        elif entry.state == "pending":
            pending.append((key, entry.job_id))
        else:
            failed.append((key, entry.error_code or "", entry.error_message or ""))
    return Summary(
        items=len(lock.items),
        states={state: states[state] for state in STATES},
        targets={t: {s: c[s] for s in STATES} for t, c in sorted(per_target.items())},
        characters=characters,
        audio_seconds=round(audio, 3),
        pending=pending,
        failed=failed,
    )
