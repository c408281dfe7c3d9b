"""The lockfile read the quick way: blocks shaped exactly as voxform writes them, checked
with a few calls each.

A lockfile of 10,000 items is 21 MB, and `plan` right after an apply reads all of it: the
field-by-field checks of `parse_entry` (a call or two per field, 40 fields an item with its
inputs and outputs) cost more than the JSON itself. Here each block is checked whole: every
field of the kind voxform writes, its text what UTF-8 carries, its digests and names matching
their patterns. The quick reading is stricter than the full one, never looser: whatever it does not
take (a lone surrogate, a number too big, a field of the wrong kind, a duplicated key, a
NaN), it gives up on, and the lockfile is read the full way, which takes or refuses it and
says where. So a lockfile reads the same either way; only the time differs.
"""

from __future__ import annotations

import json
from typing import Any

from voxform.oss.names import BUCKET, MAX_KEY_BYTES
from voxform.state.jsonfile import SAFE_INTEGER, is_text
from voxform.state.lockfile import (
    _ETAG,
    _FIELD_SET,
    _FINGERPRINT,
    _HEX64,
    ITEM_ID,
    LOCKFILE_VERSION,
    TOKEN,
    LockEntry,
    LockState,
    _entry,
)
from voxform.state.outputs import FileDigest, Output, object_digest

_STATES = frozenset({"finished", "pending", "failed"})
_TEXTS = ("chunk", "job_id", "media_id", "url", "error_code", "error_message")
_PATTERNS = (("token", TOKEN), ("audio_digest", _FINGERPRINT), ("copied_from", ITEM_ID))
_file_digest = tuple.__new__  # of FileDigest, a NamedTuple, without its __new__
_CRC_DIGITS = frozenset("0123456789")
_MAX_CRC = 1 << 64
_INFINITY = float("inf")


class _Duplicate(Exception):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _Duplicate  # the full reading names it
    return document


def quick_state(text: str) -> LockState | None:
    """The lockfile `text` when every part of it is as voxform writes it; None otherwise
    (the caller reads it the full way)."""
    try:
        document = json.loads(text, object_pairs_hook=_pairs)
    except (ValueError, RecursionError, _Duplicate):
        return None
    if type(document) is not dict or document.keys() - {"items", "lockfile_version"}:
        return None
    version = document.get("lockfile_version")
    if type(version) is not int or version != LOCKFILE_VERSION:
        return None
    items = document.get("items", {})
    if type(items) is not dict:
        return None
    state = LockState()
    entries = state.items
    match = ITEM_ID.fullmatch
    buckets: set[str] = set()
    for key, raw in items.items():
        entry = quick_entry(raw, buckets) if match(key) else None
        if entry is None:
            return None
        entries[key] = entry
    return state


def quick_entry(raw: object, buckets: set[str] | None = None) -> LockEntry | None:
    """The entry of one block as voxform writes it, or None (see the module). `buckets`:
    bucket names found good already (in other blocks of the same lockfile)."""
    if type(raw) is not dict or not raw.keys() <= _FIELD_SET:
        return None
    # a field set to null is one left out (voxform writes none: the block itself, then)
    values = {n: v for n, v in raw.items() if v is not None} if None in raw.values() else raw
    fingerprint, count = values.get("fingerprint"), values.get("characters")
    state = values.get("state")
    if (
        type(state) is not str
        or state not in _STATES
        or type(fingerprint) is not str
        or not _FINGERPRINT.fullmatch(fingerprint)
        or type(count) is not int
        or not 0 <= count < SAFE_INTEGER
    ):
        return None
    try:  # every text field a string (join refuses anything else) UTF-8 can carry
        if not is_text("".join([values.get(name, "") for name in _TEXTS])):
            return None
    except TypeError:
        return None
    for name in ("inputs", "subtitles"):
        if name in values and not _names(values[name]):
            return None
    duration = values.get("duration")
    if duration is not None and not (
        (type(duration) is float and 0 <= duration < _INFINITY)  # NaN fails it too
        or (type(duration) is int and 0 <= duration < SAFE_INTEGER)
    ):
        return None
    for name, pattern in _PATTERNS:
        found = values.get(name)
        if found is not None and (type(found) is not str or not pattern.fullmatch(found)):
            return None
    if "outputs" in values:
        outputs = _outputs(values["outputs"], set() if buckets is None else buckets)
        if outputs is None:
            return None
        values["outputs"] = outputs
    return _entry(values)


def _outputs(raw: object, buckets: set[str]) -> dict[str, Output] | None:
    """Recorded outputs as voxform writes them: names in UTF-8; a file's sha256 and size, an
    object's bucket, key, etag, size and CRC-64. `buckets`: names already found to be
    bucket names OSS takes (shared by the blocks of one lockfile)."""
    if type(raw) is not dict:
        return None
    recorded: dict[str, Output] = {}
    for name, value in raw.items():  # json's keys are strings; their text is checked
        if type(value) is not dict or not (name.isascii() or is_text(name)):
            return None
        size = value.get("size")
        if type(size) is not int or not 0 <= size < SAFE_INTEGER:
            return None
        fields = len(value)
        if not name.startswith("oss://"):
            sha = value.get("sha256")  # with "size", no other field
            if fields != 2 or type(sha) is not str or not _HEX64.fullmatch(sha):
                return None
            recorded[name] = _file_digest(FileDigest, (sha, size))
            continue
        if not object_name(name, buckets):
            return None
        etag, crc = value.get("etag"), value.get("crc64")
        if fields != (2 if crc is None else 3) or type(etag) is not str:
            return None  # "etag" and "size", and "crc64" if anything else
        if not _ETAG.fullmatch(etag):
            return None
        number = None
        if crc is not None:
            if type(crc) is not str or not 0 < len(crc) <= 20 or not _CRC_DIGITS.issuperset(crc):
                return None
            number = int(crc)
            if number >= _MAX_CRC:
                return None
        recorded[name] = object_digest(etag, size, number)
    return recorded


def _names(value: object) -> bool:
    """An object of strings UTF-8 can carry, checked at once."""
    if type(value) is not dict:
        return False
    try:
        return is_text("".join(value) + "".join(value.values()))
    except TypeError:  # a member that is not a string
        return False


def object_name(name: str, buckets: set[str]) -> bool:
    """Whether `oss://BUCKET/KEY` `name` names an object as the quick reading takes it: a
    bucket name OSS takes (`buckets`: those found so far, shared by a lockfile's entries)
    and a key of 1 to MAX_KEY_BYTES bytes not starting with `/` or `\\` (its text is
    checked apart)."""
    bucket, slash, key = name[6:].partition("/")
    if bucket not in buckets:
        if not BUCKET.fullmatch(bucket):
            return False
        buckets.add(bucket)
    if not slash or not key or key[0] in "/\\":
        return False
    size = len(key) if key.isascii() else len(key.encode("utf-8", "surrogatepass"))
    return size <= MAX_KEY_BYTES
