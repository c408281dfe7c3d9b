"""Manifest documents the schema found valid before, remembered in `.voxform/` so that a
command on an unchanged project does not load the schema's validator (jsonschema and
what it imports: a tenth of a second of start-up) to find them valid once more.

A document is known by the sha256 of its parsed value as Python spells it (repr, which
tells 1 from "1" from 1.0 from True), under the identity of what checks it: the schema's
JSON, the module that applies it (schema.py) and voxform's version, so a change to any of
them forgets every document. Only a document with no schema problem at all is noted; any
other is checked each time, and its problems told. A file that is damaged, foreign or
unreadable is as if there were none: every document is checked, and the file written
again. `voxform validate` always checks (cli/validate.py passes no memo).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from pathlib import Path

from voxform import __version__
from voxform.files import write_atomic
from voxform.reading import FileTooLargeError, read_regular

SCHEMA_SEEN = "schema-seen.json"
MAX_KEPT = 64  # documents remembered (the newest): a project has a few manifests
MAX_BYTES = 1 << 16
_HERE = Path(__file__).resolve().parent
_KEY = re.compile(r"[0-9a-f]{64}")


def schema_identity() -> str:
    """What checks a document: the schema, the module that applies it, this voxform."""
    checker = hashlib.sha256(__version__.encode())
    for name in ("voxform.schema.json", "schema.py"):
        checker.update(b"\0" + (_HERE / name).read_bytes())
    return checker.hexdigest()


class SchemaSeen:
    """The documents found valid before, read from `path` (below `root`) and written back
    by `save` when a new one was noted."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self.keys: list[str] = []
        self.dirty = False
        try:
            self.identity = schema_identity()
        except OSError:  # what checks a document cannot be read: each one is checked
            self.identity = ""
            return
        with contextlib.suppress(OSError, FileTooLargeError, ValueError):  # UnsafeFileError
            document = json.loads(read_regular(path, MAX_BYTES, follow=False))
            self.keys = _keys(document, self.identity)

    def known(self, data: object) -> bool:
        """Whether a document whose parsed value is `data` was found valid before."""
        return _key(data) in self.keys

    def note(self, data: object) -> None:
        """Remember that a document whose parsed value is `data` has no schema problem."""
        key = _key(data)
        if key not in self.keys:
            self.keys = [*self.keys, key][-MAX_KEPT:]
            self.dirty = True

    def save(self) -> None:
        """Write what was noted (a file that cannot be written is a slower next command)."""
        if not self.dirty or not self.identity:
            return
        data = json.dumps({"identity": self.identity, "valid": self.keys}).encode()
        with contextlib.suppress(OSError):  # UnsafeFileError (a planted link) is one too
            write_atomic(self.path, data, durable=False, root=self.root)
        self.dirty = False


def _key(data: object) -> str:
    return hashlib.sha256(repr(data).encode("utf-8", "surrogatepass")).hexdigest()


def _keys(document: object, identity: str) -> list[str]:
    """The keys of a file written for `identity`; none from anything else."""
    if not isinstance(document, dict) or document.get("identity") != identity:
        return []
    keys = document.get("valid")
    if not isinstance(keys, list) or len(keys) > MAX_KEPT:
        return []
    if not all(isinstance(key, str) and _KEY.fullmatch(key) for key in keys):
        return []
    return keys
