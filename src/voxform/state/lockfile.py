"""voxform.lock: one deterministic JSON block per item, merge-friendly, atomically written."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Literal

from voxform.errors import VoxformError, did_you_mean
from voxform.files import write_atomic
from voxform.frozen import keyword_maker
from voxform.paths import ID_MAX, ID_PATTERN
from voxform.reading import read_regular
from voxform.state.jsonfile import (
    JsonProblem,
    describe,
    is_count,
    is_seconds,
    is_text,
    load_json,
)
from voxform.state.outputs import ETAG, FileDigest, ObjectDigest, Output, split_object_url

LOCKFILE = "voxform.lock"
LOCKFILE_VERSION = 1
MAX_LOCKFILE_BYTES = 1 << 28  # 256 MiB: about 200,000 items
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
    # What was written: project files by relative path, objects by oss://BUCKET/KEY.
    outputs: dict[str, Output] | None = None
    audio_digest: str | None = None  # the fingerprint without the output location
    copied_from: str | None = None  # made by copying this item's audio, not synthesized

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
        return self._laid_out()[0]

    def _laid_out(self) -> Laid:
        """The lockfile's bytes, its entries in their order, and where each one's block
        begins and ends in the bytes."""
        keys = sorted(self.items)
        blocks = [_block(self.items[key].to_json(), "    ") for key in keys]
        heads = [f"    {_string(key)}: " for key in keys]
        rows = ",\n".join(map(str.__add__, heads, blocks))
        middle = "{\n" + rows + "\n  }" if keys else "{}"
        text = f'{{\n  "items": {middle},\n  "lockfile_version": {LOCKFILE_VERSION}\n}}\n'
        data = text.encode()
        ascii = len(data) == len(text)  # then a string's characters are its bytes
        size = len if ascii else lambda part: len(part.encode())
        spans = []
        at = len('{\n  "items": {\n')
        for head, block in zip(heads, blocks, strict=True):
            at += size(head)
            end = at + size(block)
            spans.append((at, end))
            at = end + 2  # ",\n"
        return data, [(key, self.items[key]) for key in keys], spans


# What write_lockfile last wrote at each path: the bytes' sha256, the entries in order and
# where each one's block lies in the bytes (its index takes it: state/lockindex.py).
Laid = tuple[bytes, list[tuple[str, LockEntry]], list[tuple[int, int]]]
_written: dict[str, Laid] = {}


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
    """The lockfile (or the journal over it) cannot be read; it is left untouched."""


# -- the fields of a block -------------------------------------------------------------------

# An item id: the manifests' rule (paths.id_problem) and its length limit, as one pattern for
# the journal's reader too. An id the manifests cannot name is a hand edit: with a '..' part
# it names a path outside the target's folder, and 100,000 characters make an object key
# OSS refuses (1,023 bytes at most) and a line in every message.
ITEM_ID = re.compile(
    rf"(?=[a-z0-9._/-]{{1,{ID_MAX}}}\Z)" + ID_PATTERN.pattern.removeprefix("^").removesuffix("$")
)
# A submission token, exactly as apply.flight.new_token makes it (secrets.token_hex(10)): it
# is sent in UserData and compared with what the service lists.
TOKEN = re.compile(r"[0-9a-f]{20}")
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ETAG = ETAG  # an object's ETag; a CRC-64 is a decimal string below 2^64:
_CRC64 = re.compile(r"[0-9]{1,20}")


def _strings(value: object) -> str | None:
    """None for an object of strings, else what is found instead."""
    if not isinstance(value, dict):
        return describe(value)
    for name, member in value.items():
        if not is_text(name) or not is_text(member):
            return f"{describe(name)}: {describe(member)}"
    return None


def _check(test: Callable[[object], bool]) -> Callable[[object], str | None]:
    return lambda value: None if test(value) else describe(value)


def _state(value: object) -> bool:
    return value in ("finished", "pending", "failed")


def _fingerprint(value: object) -> bool:
    return isinstance(value, str) and _FINGERPRINT.fullmatch(value) is not None


def _item_id(value: object) -> bool:
    return isinstance(value, str) and ITEM_ID.fullmatch(value) is not None


def _token(value: object) -> bool:
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None


_TEXT = (_check(is_text), "a string")
_NAMES = (_strings, "an object of strings")
# Each field: a check (None: fine, else what is found instead) and what it must be.
_CHECKS: dict[str, tuple[Callable[[object], str | None], str]] = {
    "state": (_check(_state), "finished, pending or failed"),
    "fingerprint": (_check(_fingerprint), "'sha256:' and 64 hex digits"),
    "characters": (_check(is_count), "a whole number from 0 to 2^53"),
    "inputs": _NAMES,
    "chunk": _TEXT,
    "job_id": _TEXT,
    "media_id": _TEXT,
    "url": _TEXT,
    "duration": (_check(is_seconds), "a finite number of seconds, 0 or more"),
    "subtitles": _NAMES,
    "error_code": _TEXT,
    "error_message": _TEXT,
    "token": (_check(_token), "20 hex digits (a token voxform made)"),
    "audio_digest": (_check(_fingerprint), "'sha256:' and 64 hex digits"),
    "copied_from": (_check(_item_id), "an item id"),
}
_REQUIRED = ("state", "fingerprint", "characters")
_FIELD_NAMES = tuple(f.name for f in fields(LockEntry))
_FIELD_SET = frozenset(_FIELD_NAMES)


def parse_entry(where: str, key: str, raw: object, advice: str) -> LockEntry:
    """One lockfile block, every field checked; LockfileError naming `where`, the item and
    the field, ending in `advice`, when it is not what voxform writes."""

    def refuse(problem: str) -> LockfileError:
        return LockfileError(f"{where}: item {key!r}{problem}; {advice}")

    if not isinstance(raw, dict):
        raise refuse(f" must be an object, not {describe(raw)}")
    if not raw.keys() <= _FIELD_SET:
        for name in raw:
            if name not in _FIELD_SET:
                raise refuse(f": unknown field {name!r}{did_you_mean(name, _FIELD_NAMES)}")
    for name in _REQUIRED:
        if raw.get(name) is None:
            raise refuse(f" has no {name!r}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None:
            continue  # what an absent field means
        if name == "outputs":
            values[name] = _outputs(where, key, value, advice)
            continue
        if name in _NAMED and _all_text(value):  # the usual inputs and subtitles, at once
            values[name] = value
            continue
        check, wanted = _CHECKS[name]
        found = check(value)
        if found is not None:
            raise refuse(f": {name!r} must be {wanted}, not {found}")
        values[name] = value
    return _entry(values)


_entry = keyword_maker(LockEntry)  # without __init__: 100,000 entries a load
_NAMED = frozenset({"inputs", "subtitles"})


def _all_text(value: object) -> bool:
    """A dict of strings that are all ASCII (what voxform writes): found without a call per
    member; anything else is left to the member by member check, which says what is wrong."""
    if type(value) is not dict:
        return False
    try:
        spelt = "".join(value) + "".join(value.values())
    except TypeError:  # a member that is not a string
        return False
    return spelt.isascii()


def _outputs(where: str, key: str, raw: object, advice: str) -> dict[str, Output]:
    """An item's recorded outputs: {path: {"sha256": hex, "size": bytes}} for a project
    file, {"oss://BUCKET/KEY": {"etag": text, "size": bytes[, "crc64": decimal]}} for an
    object."""
    if not isinstance(raw, dict):
        raise LockfileError(f"{where}: item {key!r}: 'outputs' must be an object; {advice}")
    recorded: dict[str, Output] = {}
    for name, value in raw.items():
        found: Output | None = None
        if is_text(name) and name.startswith("oss://"):
            found = _object(name, value)
        if found is None and is_text(name) and not name.startswith("oss://"):
            found = _file(value)
        if found is None:
            wanted = (
                "a bucket and key OSS takes, an etag (1-128 printable characters), a size"
                " (bytes) and at most a crc64 (a decimal string below 2^64)"
                if isinstance(name, str) and name.startswith("oss://")
                else "a sha256 (64 hex digits) and a size (bytes)"
            )
            raise LockfileError(
                f"{where}: item {key!r}: output {describe(name)} needs {wanted}; {advice}"
            )
        recorded[name] = found
    return recorded


def _file(value: object) -> FileDigest | None:
    if not isinstance(value, dict):
        return None
    sha, size = value.get("sha256"), value.get("size")
    if not isinstance(sha, str) or not _HEX64.fullmatch(sha) or not is_count(size):
        return None
    return FileDigest(sha, size)


def _object(name: str, value: object) -> ObjectDigest | None:
    if split_object_url(name) is None or not isinstance(value, dict):
        return None
    if not {"etag", "size"} <= set(value) <= {"etag", "size", "crc64"}:
        return None
    etag, size, crc = value["etag"], value["size"], value.get("crc64")
    if not isinstance(etag, str) or not _ETAG.fullmatch(etag) or not is_count(size):
        return None
    if crc is not None and (not isinstance(crc, str) or not _CRC64.fullmatch(crc)):
        return None
    if crc is not None and int(crc) >= 1 << 64:
        return None
    return ObjectDigest(etag, size, None if crc is None else int(crc))


_ADVICE = "fix it or restore it from git"


def read_lockfile(path: Path, *, quick: bool = True, index: Path | None = None) -> LockState:
    """The lockfile at `path`, or an empty state when there is none yet; LockfileError, in
    one sentence naming what is wrong and where, for anything voxform would not write.
    `quick`: first the quick way (lockquick.py), which gives the same state or gives up;
    `index`: first of all its index there, if it was made for these bytes (lockindex.py)."""
    try:
        data = read_regular(path, MAX_LOCKFILE_BYTES, "lockfile")
    except FileNotFoundError:
        return LockState()
    if index is not None and quick:
        from voxform.state.lockindex import read_index  # it builds on this module

        indexed = read_index(index, data, path)
        if indexed is not None:
            return indexed
    found = _quickly(data) if quick else None
    if found is not None:
        return found
    try:
        document = load_json(data)
    except JsonProblem as exc:
        at = f":{exc.line}:{exc.column}" if exc.line is not None else ""
        raise LockfileError(
            f"{path}{at}: lockfile {exc.reason}; resolve merge conflicts or restore it from git"
        ) from None
    if not isinstance(document, dict):
        raise LockfileError(
            f"{path}: lockfile must be a JSON object, not {describe(document)}; {_ADVICE}"
        )
    for name in document:
        if name not in ("items", "lockfile_version"):
            raise LockfileError(f"{path}: unknown key {name!r}; {_ADVICE}")
    version = document.get("lockfile_version")
    if version is None:
        raise LockfileError(f"{path}: no lockfile_version (this voxform reads version 1)")
    if type(version) is not int or version != LOCKFILE_VERSION:
        newer = "; a newer voxform wrote it" if is_count(version) and version > 1 else ""
        raise LockfileError(
            f"{path}: unsupported lockfile_version: {describe(version)}"
            f" (this voxform reads version 1{newer})"
        )
    items = document.get("items", {})
    if not isinstance(items, dict):
        raise LockfileError(f"{path}: 'items' must be an object, not {describe(items)}; {_ADVICE}")
    state = LockState()
    for key, raw in items.items():
        if not ITEM_ID.fullmatch(key):
            why = (
                f"{len(key):,} characters, of at most {ID_MAX}"
                if len(key) > ID_MAX
                else "lower-case letters, digits and . _ - in parts separated by '/', none"
                " empty or starting with '.'"
            )
            raise LockfileError(
                f"{path}: item {describe(key)} is not an item id ({why}); {_ADVICE}"
            )
        state.items[key] = parse_entry(str(path), key, raw, _ADVICE)
    return state


def _quickly(data: bytes) -> LockState | None:
    """The lockfile read the quick way (lockquick.py), or None: read it the full way."""
    from voxform.state.lockquick import quick_state  # it builds on this module

    try:
        return quick_state(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def write_lockfile(path: Path, state: LockState) -> None:
    """Replace the lockfile atomically with `state` (what was written is remembered for its
    index: lockindex.save_index)."""
    data, entries, spans = state._laid_out()
    write_atomic(path, data)
    _written[str(path)] = (hashlib.sha256(data).digest(), entries, spans)
