"""voxform.lock: one deterministic JSON block per item, merge-friendly, atomically written."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Literal

from voxform.errors import VoxformError
from voxform.files import write_atomic

LOCKFILE = "voxform.lock"
LOCKFILE_VERSION = 1
State = Literal["finished", "pending", "failed"]


@dataclass(frozen=True)
class LockEntry:
    """What the lockfile remembers of one item."""

    state: State
    fingerprint: str
    characters: int
    inputs: dict[str, str] = field(default_factory=dict)
    chunk: str | None = None
    job_id: str | None = None
    media_id: str | None = None
    url: str | None = None
    duration: float | None = None
    subtitles: dict[str, str] | None = None
    error_code: str | None = None
    error_message: str | None = None

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class LockState:
    """All lockfile entries by item id."""

    items: dict[str, LockEntry] = field(default_factory=dict)

    def chunk_digests(self) -> dict[str, str]:
        """Ids of source chunks mapped to their chunk digests, for stable id alignment."""
        return {key: e.chunk for key, e in self.items.items() if e.chunk is not None}

    def to_bytes(self) -> bytes:
        document = {
            "items": {key: self.items[key].to_json() for key in sorted(self.items)},
            "lockfile_version": LOCKFILE_VERSION,
        }
        return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


class LockfileError(VoxformError):
    """The lockfile cannot be read; it is left untouched."""


_FIELDS = {f.name for f in fields(LockEntry)}


def read_lockfile(path: Path) -> LockState:
    """The lockfile at `path`, or an empty state when there is none yet."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return LockState()
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(
            f"{path}:{exc.lineno}:{exc.colno}: lockfile is not valid JSON ({exc.msg}); "
            "resolve merge conflicts or restore it from git"
        ) from exc
    if not isinstance(document, dict) or document.get("lockfile_version") != LOCKFILE_VERSION:
        raise LockfileError(f"{path}: unsupported lockfile_version (this voxform reads version 1)")
    items = document.get("items", {})
    if not isinstance(items, dict):
        raise LockfileError(f"{path}: 'items' must be an object")
    state = LockState()
    for key, raw in items.items():
        if not isinstance(raw, dict) or raw.get("state") not in ("finished", "pending", "failed"):
            raise LockfileError(f"{path}: item {key!r} is malformed")
        known = {k: v for k, v in raw.items() if k in _FIELDS}
        try:
            state.items[key] = LockEntry(**known)
        except TypeError as exc:
            raise LockfileError(f"{path}: item {key!r} is malformed ({exc})") from exc
    return state


def write_lockfile(path: Path, state: LockState) -> None:
    """Replace the lockfile atomically with `state`."""
    write_atomic(path, state.to_bytes())
