"""voxform.lock: one deterministic JSON block per item, merge-friendly, atomically written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from json.encoder import encode_basestring
from pathlib import Path
from typing import Literal

from voxform.errors import VoxformError
from voxform.files import write_atomic
from voxform.state.outputs import FileDigest

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
    token: str | None = None  # a submission's idempotency token, until its job id is known
    outputs: dict[str, FileDigest] | None = None  # files in the project, by relative path

    def to_json(self) -> dict[str, object]:
        """The lockfile block: every field that is set (dataclasses.asdict is 10x slower)."""
        fields = ((name, getattr(self, name)) for name in _FIELD_NAMES)
        block: dict[str, object] = {
            name: dict(value) if isinstance(value, dict) else value
            for name, value in fields
            if value is not None
        }
        if self.outputs is not None:
            block["outputs"] = {name: d.to_json() for name, d in self.outputs.items()}
        return block

    @property
    def unresolved(self) -> bool:
        """Submitted (or about to be) with no job id on record: look it up before resending."""
        return self.state == "pending" and self.job_id is None


@dataclass
class LockState:
    """All lockfile entries by item id."""

    items: dict[str, LockEntry] = field(default_factory=dict)

    def chunk_digests(self) -> dict[str, str]:
        """Ids of source chunks mapped to their chunk digests, for stable id alignment."""
        return {key: e.chunk for key, e in self.items.items() if e.chunk is not None}

    def to_bytes(self) -> bytes:
        """The lockfile's bytes: `json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`
        and a newline, written out by hand because json's indenting encoder is pure Python
        and ten times slower on a lockfile of thousands of items."""
        if not self.items:
            blocks = "{}"
        else:
            rows = [
                f"    {_string(key)}: {_block(self.items[key].to_json(), '    ')}"
                for key in sorted(self.items)
            ]
            blocks = "{\n" + ",\n".join(rows) + "\n  }"
        text = f'{{\n  "items": {blocks},\n  "lockfile_version": {LOCKFILE_VERSION}\n}}\n'
        return text.encode()


def _string(value: str) -> str:
    return encode_basestring(value)


def _value(value: object, indent: str) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        return _block(value, indent)
    if value is True or value is False or value is None or isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).replace(
        "\n", "\n" + indent
    )


def _block(document: dict[str, object], indent: str) -> str:
    """A JSON object as json.dumps(indent=2, sort_keys=True) writes it at `indent`."""
    if not document:
        return "{}"
    inner = indent + "  "
    rows = [f"{inner}{_string(k)}: {_value(document[k], inner)}" for k in sorted(document)]
    return "{\n" + ",\n".join(rows) + "\n" + indent + "}"


class LockfileError(VoxformError):
    """The lockfile cannot be read; it is left untouched."""


_FIELD_NAMES = tuple(f.name for f in fields(LockEntry))
_FIELDS = set(_FIELD_NAMES)


def parse_entry(where: str, key: str, raw: object) -> LockEntry:
    """One lockfile block; LockfileError naming `where` and the item when it is malformed."""
    if not isinstance(raw, dict) or raw.get("state") not in ("finished", "pending", "failed"):
        raise LockfileError(f"{where}: item {key!r} is malformed")
    known = {k: v for k, v in raw.items() if k in _FIELDS}
    if "outputs" in known:
        known["outputs"] = _outputs(where, key, known["outputs"])
    try:
        return LockEntry(**known)
    except TypeError as exc:
        raise LockfileError(f"{where}: item {key!r} is malformed ({exc})") from exc


def _outputs(where: str, key: str, raw: object) -> dict[str, FileDigest]:
    """An item's recorded output files: {path: {"sha256": hex, "size": bytes}}."""
    if not isinstance(raw, dict):
        raise LockfileError(f"{where}: item {key!r}: 'outputs' must be an object")
    files = {}
    for name, value in raw.items():
        sha = value.get("sha256") if isinstance(value, dict) else None
        size = value.get("size") if isinstance(value, dict) else None
        if (
            not isinstance(sha, str)
            or len(sha) != 64
            or not all(c in "0123456789abcdef" for c in sha)
            or not isinstance(size, int)
            or isinstance(size, bool)
            or not 0 <= size < 1 << 53
        ):
            raise LockfileError(
                f"{where}: item {key!r}: output {name!r} needs a sha256 (64 hex digits) "
                "and a size (bytes)"
            )
        files[name] = FileDigest(sha, size)
    return files


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
        state.items[key] = parse_entry(str(path), key, raw)
    return state


def write_lockfile(path: Path, state: LockState) -> None:
    """Replace the lockfile atomically with `state`."""
    write_atomic(path, state.to_bytes())
