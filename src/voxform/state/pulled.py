"""What `voxform pull` wrote, so that a second pull downloads nothing that is unchanged.

A file is unchanged when both ends are: the object is still the one pulled (its ETag and
size, as a ListObjectsV2 page gives them for a thousand keys a call; an ETag is compared,
never recomputed), and the file is still what was written. For the file, as in git's index,
its (size, mtime, ctime, inode) at the time of writing says so without reading it; when the
stat differs (or was "racily clean": taken in the clock tick the record was written in, so a
later write might not show), the file's CRC-64 is compared with the object's instead, and a
match is as good as the stat (a `touch` costs one read, not a download). The record lives in
`.voxform/`; a damaged or foreign one is ignored, which costs downloads, never correctness.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from pathlib import Path
from typing import NamedTuple

from voxform.files import write_atomic
from voxform.oss.crc64 import Crc64
from voxform.reading import open_regular, read_regular
from voxform.state.jsonfile import JsonProblem, load_json
from voxform.state.racy import RACY_NS

PULL_RECORD = "pull-record.json"
RECORD_VERSION = 1
MAX_RECORD_BYTES = 1 << 26  # 64 MiB: some 300,000 files
CHUNK = 1 << 20

Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


class Pulled(NamedTuple):
    """One file pull wrote: the object it holds (bucket, key, ETag, size, CRC-64) and the
    file's stat after the write (None: check its CRC-64 next time)."""

    bucket: str
    key: str
    etag: str
    size: int
    crc64: int
    stat: Stat | None


class PullRecord:
    """Pulled files by project-relative path."""

    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root  # no symlink between it and `path` is written through
        self.files: dict[str, Pulled] = {}
        self.dirty = False
        with contextlib.suppress(OSError, JsonProblem):
            self.files = _files(load_json(read_regular(path, MAX_RECORD_BYTES)))

    def unchanged(self, name: str, bucket: str, key: str, etag: str, size: int) -> bool:
        """Whether project file `name` holds the object (`bucket`, `key`) as it is now
        (`etag`, `size`), by the record and the file's stat (or its CRC-64)."""
        pulled = self.files.get(name)
        if pulled is None or (pulled.bucket, pulled.key, pulled.etag, pulled.size) != (
            bucket,
            key,
            etag,
            size,
        ):
            return False
        found = _stat(self.root / name)
        if found is None or found[0] != size:
            return False
        if pulled.stat == found:
            return True
        if _file_crc(self.root / name) != pulled.crc64:
            return False
        self.files[name] = pulled._replace(stat=found)
        self.dirty = True
        return True

    def wrote(self, name: str, bucket: str, key: str, etag: str, size: int, crc64: int) -> None:
        """Project file `name` now holds that object, just written."""
        self.files[name] = Pulled(bucket, key, etag, size, crc64, _stat(self.root / name))
        self.dirty = True

    def forget(self, name: str) -> None:
        """Project file `name` is no longer known to hold an object."""
        if self.files.pop(name, None) is not None:
            self.dirty = True

    def save(self) -> None:
        """Write the record if it changed; a stat taken too close to now is left out (the
        file's CRC-64 is checked next time). A record that cannot be written only costs the
        next pull its downloads."""
        if not self.dirty:
            return
        horizon = time.time_ns() - RACY_NS
        files = {
            name: [*p[:5], list(p.stat) if p.stat is not None and p.stat[1] < horizon else None]
            for name, p in sorted(self.files.items())
        }
        data = json.dumps({"version": RECORD_VERSION, "files": files}, separators=(",", ":"))
        with contextlib.suppress(OSError):
            write_atomic(self.path, data.encode(), durable=False, root=self.root)
        self.dirty = False


def _stat(path: Path) -> Stat | None:
    try:
        st = os.lstat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _file_crc(path: Path) -> int | None:
    """The CRC-64 of the regular file at `path` (a symlink is not read: None)."""
    running = Crc64()
    try:
        with open_regular(path, follow=False) as handle:
            while chunk := handle.read(CHUNK):
                running.update(chunk)
    except OSError:
        return None
    return running.value


def _files(raw: object) -> dict[str, Pulled]:
    """The well-formed entries of a record; anything else is left out (a download more)."""
    if not isinstance(raw, dict) or raw.get("version") != RECORD_VERSION:
        return {}
    files = raw.get("files")
    found: dict[str, Pulled] = {}
    for name, value in (files if isinstance(files, dict) else {}).items():
        if not isinstance(value, list) or len(value) != 6:
            continue
        bucket, key, etag, size, crc, st = value
        if not (
            isinstance(bucket, str)
            and isinstance(key, str)
            and isinstance(etag, str)
            and type(size) is int
            and type(crc) is int
        ):
            continue
        kept: Stat | None = None
        if isinstance(st, list) and len(st) == 4 and all(type(v) is int for v in st):
            kept = (st[0], st[1], st[2], st[3])
        found[name] = Pulled(bucket, key, etag, size, crc, kept)
    return found
