"""A cache's small records (JSON objects by name) in one file, read once and written once
per review, where a file for each record cost more than what it records: making thousands
of small files is much of a cold review's time.

A record that does not read is as good as missing: whatever it describes is made again.
Two reviews at once may each write the file; the later one keeps what it finds there too,
and a record lost in between costs a little work next time, nothing more.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from voxform.errors import VoxformError
from voxform.files import write_atomic
from voxform.reading import read_regular

INDEX = "index.json"
KEEP = 50_000  # records kept beyond those of this review, the newest first
MAX_INDEX_BYTES = 1 << 30  # far beyond KEEP records of a few hundred bytes each


class Records:
    """The records in `folder`/index.json (kept under the trusted `root`)."""

    def __init__(self, folder: Path, root: Path) -> None:
        self.path = folder / INDEX
        self.root = root
        self._lock = threading.Lock()
        self._stored = _read(self.path)
        self._used: dict[str, dict[str, object]] = {}  # read or made in this review

    def get(self, name: str) -> dict[str, object] | None:
        with self._lock:
            record = self._stored.get(name)
            if record is not None:
                self._used[name] = record
            return record

    def put(self, name: str, record: dict[str, object]) -> None:
        with self._lock:
            self._stored[name] = record
            self._used[name] = record

    def flush(self) -> None:
        """Write the index: this review's records first, then those already there (another
        review's too), up to KEEP of them. A cache that cannot be written costs work next
        time, nothing more."""
        with self._lock:
            used = dict(self._used)
        if not used:
            return
        kept = dict(used)
        for name, record in reversed(list(_read(self.path).items())):
            if len(kept) >= len(used) + KEEP:
                break
            kept.setdefault(name, record)
        ordered = {name: kept[name] for name in reversed(list(kept))}  # newest last
        encoded = json.dumps(ordered, separators=(",", ":"), sort_keys=False).encode()
        with contextlib.suppress(OSError):
            write_atomic(self.path, encoded, durable=False, root=self.root)


def _read(path: Path) -> dict[str, dict[str, object]]:
    """The records at `path`; none when it is missing, damaged, too large, or not a regular
    file of its own (a symlink, a FIFO, a device planted there is not read)."""
    try:
        data = json.loads(read_regular(path, MAX_INDEX_BYTES, "review cache", follow=False))
    except (OSError, ValueError, VoxformError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}
