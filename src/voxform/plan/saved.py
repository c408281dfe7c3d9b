"""Saved plans: what `plan --out` writes and `apply PLANFILE` carries out, exactly.

A saved plan records its changes with the digests of the inputs and of the lockfile state it
was made against. Applying it recomputes both: if either has moved on (the texts changed, or
another apply ran, even once after a plan made against an empty lockfile), it is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from voxform.errors import VoxformError
from voxform.plan.plan import Plan
from voxform.render.model import RenderedItem
from voxform.state.jsonfile import JsonProblem, load_json

KIND = "voxform-plan"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SavedPlan:
    """A plan as reviewed: its selection, its changes and what it was made against."""

    inputs: str
    lockfile: str
    select: tuple[str, ...]
    replace: tuple[str, ...]
    changes: tuple[tuple[str, str, str | None, str | None], ...]  # id, action, fingerprint, from
    refresh: bool = True  # the buckets were read for it: apply reads them again


def inputs_digest(rendered: Sequence[RenderedItem], fingerprints: dict[str, str]) -> str:
    """A digest of every item the manifests render: ids, fingerprints and input digests."""
    document = [
        [r.id, fingerprints.get(r.id), r.item.settings.target, sorted(r.digests.items())]
        for r in rendered
    ]
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(encoded.encode()).hexdigest()


def lockfile_digest(lock_bytes: bytes) -> str:
    """A digest of the lockfile state (with any journal replayed), as bytes."""
    return "sha256:" + hashlib.sha256(lock_bytes).hexdigest()


def save(plan: Plan, saved: SavedPlan) -> bytes:
    """The plan file's bytes: JSON people can read in review, and apply can check."""
    document = {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "inputs": saved.inputs,
        "lockfile": saved.lockfile,
        "select": list(saved.select),
        "replace": list(saved.replace),
        "changes": [
            {
                "id": c.id,
                "action": c.action,
                "reasons": list(c.reasons),
                "characters": c.characters,
                "fingerprint": c.fingerprint,
                **({"from": c.source} if c.source is not None else {}),
            }
            for c in plan.changes
            if c.action != "unchanged"
        ],
        "summary": plan.summary(),
    }
    if not saved.refresh:
        document["refresh"] = False  # made with --no-refresh (else left out: older files)
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def load(name: str, data: bytes) -> SavedPlan:
    """Read a plan file; VoxformError naming the file when it is not one."""
    try:
        document = load_json(data)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        if document.get("kind") != KIND or document.get("format_version") != FORMAT_VERSION:
            raise ValueError("not a voxform plan of format version 1")
        changes = tuple(
            (str(c["id"]), str(c["action"]), c.get("fingerprint"), c.get("from"))
            for c in document["changes"]
        )
        return SavedPlan(
            inputs=str(document["inputs"]),
            lockfile=str(document["lockfile"]),
            select=tuple(str(s) for s in document["select"]),
            replace=tuple(str(r) for r in document["replace"]),
            changes=changes,
            refresh=_flag(document.get("refresh", True)),
        )
    except JsonProblem as exc:
        raise VoxformError(f"{name} {exc.reason}: not a saved voxform plan") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VoxformError(f"{name}: not a saved voxform plan ({exc})") from None


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("refresh is not true or false")
    return value


def check(saved: SavedPlan, current: SavedPlan, name: str) -> None:
    """Refuse `saved` unless it was made against exactly what `current` sees now."""
    if saved.lockfile != current.lockfile:
        raise VoxformError(
            f"{name} was made against another lockfile state: voxform.lock has moved on "
            "since (another apply ran); make a new plan and review it"
        )
    if saved.inputs != current.inputs:
        raise VoxformError(
            f"{name} was made from other inputs: manifests, templates or texts changed "
            "since; make a new plan and review it"
        )
    if saved.changes != current.changes:
        raise VoxformError(f"{name} no longer matches what apply would do; make a new plan")
