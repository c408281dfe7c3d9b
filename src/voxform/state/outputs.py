"""Output files as the lockfile records them (digest and size), and drift from that record.

Plan checks each recorded file in the project: gone, or not the bytes recorded, means the
item is rebuilt; and voxform deletes only a file that is still exactly what it recorded. A
stat cache in `.voxform/` keeps this cheap: a file whose size, mtime and inode match the
cache keeps its cached digest and is not read again. As in git's index, an entry whose mtime
is within a clock tick of when its file was read is not trusted ("racily clean": a write in
the same tick would leave size and mtime as they were; state/racy.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import stat
import threading
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from voxform.errors import PathEscapeError
from voxform.files import UnsafeFileError, check_writable, write_atomic
from voxform.frozen import maker
from voxform.ice.wire import FORMATS
from voxform.oss.names import bucket_ok, key_ok
from voxform.paths import below
from voxform.reading import read_regular
from voxform.state.below import Below
from voxform.state.racy import settled

CACHE_NAME = "stat-cache.json"
MAX_CACHE_BYTES = 1 << 26  # 64 MiB: a cache of about 500,000 files
MAX_HASHED = 1 << 30  # a file bigger than this is no output of ours: it counts as changed
OUTPUT_SUFFIXES = frozenset({*(f".{f}" for f in FORMATS), ".vtt", ".srt"})


class FileDigest(NamedTuple):
    """One output file in the project: its sha256 (hex) and size in bytes. The lockfile
    keys it by its project-relative path."""

    sha256: str
    size: int

    def to_json(self) -> dict[str, object]:
        return {"sha256": self.sha256, "size": self.size}


@dataclass(frozen=True, slots=True)
class ObjectDigest:
    """One object in a bucket, as OSS told it: its ETag (an opaque value, quotes and all),
    size in bytes and CRC-64/ECMA-182 once a HeadObject or a download read it (a listing
    does not). The lockfile keys it by `oss://BUCKET/KEY`; the CRC-64 is written as a
    decimal string, since a JSON number loses precision past 2^53."""

    etag: str
    size: int
    crc64: int | None = None

    def to_json(self) -> dict[str, object]:
        block: dict[str, object] = {"etag": self.etag, "size": self.size}
        if self.crc64 is not None:
            block["crc64"] = str(self.crc64)
        return block

    def same_object(self, other: ObjectDigest) -> bool:
        """Whether `other` describes the same object: ETag and size equal, and the CRC-64
        too when both know it."""
        return (
            self.etag == other.etag
            and self.size == other.size
            and (self.crc64 is None or other.crc64 is None or self.crc64 == other.crc64)
        )


# An ObjectDigest made from its three values without __init__ (the same value): a lockfile
# or a bucket listing makes thousands of them.
object_digest = maker(ObjectDigest)

# An ETag is opaque (ICE's writes may be plain MD5 or multipart): printable ASCII without
# spaces, quotes included, bounded; what else a server sends is never recorded.
ETAG = re.compile(r"[\x21-\x7e]{1,128}")
SAFE_SIZE = 1 << 53


def recordable(found: ObjectDigest) -> bool:
    """Whether the lockfile can hold `found` as a server told it (a hostile or broken
    answer is not written into a file that would then refuse to load)."""
    return (
        ETAG.fullmatch(found.etag) is not None
        and 0 <= found.size < SAFE_SIZE
        and (found.crc64 is None or 0 <= found.crc64 < 1 << 64)
    )


# What the lockfile records of one output, tagged by its type (and by its name: a project
# path, or `oss://BUCKET/KEY`, which no project path can be).
Output = FileDigest | ObjectDigest
OSS_SCHEME = "oss://"


def object_url(bucket: str, key: str) -> str:
    """The lockfile's name of an object: `oss://BUCKET/KEY`."""
    return f"{OSS_SCHEME}{bucket}/{key}"


def split_object_url(name: str) -> tuple[str, str] | None:
    """(bucket, key) of an `oss://BUCKET/KEY` name, or None for anything else (a project
    path, or a bucket or key OSS would not take)."""
    if not name.startswith(OSS_SCHEME):
        return None
    bucket, slash, key = name[len(OSS_SCHEME) :].partition("/")
    if not slash or not bucket_ok(bucket) or not key_ok(key):
        return None
    return bucket, key


def files_of(outputs: Mapping[str, Output] | None) -> dict[str, FileDigest]:
    """The project files among `outputs`."""
    return {n: d for n, d in (outputs or {}).items() if isinstance(d, FileDigest)}


def objects_of(outputs: Mapping[str, Output] | None) -> dict[str, ObjectDigest]:
    """The bucket objects among `outputs`, by `oss://BUCKET/KEY`."""
    return {n: d for n, d in (outputs or {}).items() if isinstance(d, ObjectDigest)}


def digest_of(data: bytes) -> FileDigest:
    return FileDigest(hashlib.sha256(data).hexdigest(), len(data))


class StatCache:
    """Digests of files by path, valid while the file's (size, mtime, inode) stays."""

    def __init__(self, path: Path | None, root: Path | None = None) -> None:
        self.path = path
        self.root = root  # no symlink between it and `path` is written through
        self.entries: dict[str, tuple[int, int, int, str]] = {}
        self.dirty = False
        self.fresh: set[str] = set()  # the names learnt since it was read
        self.opened = time.time_ns()  # every file it learns is read after this
        if path is not None:
            # json's own reading: a cache is ours, and a damaged one only a slower plan
            with contextlib.suppress(OSError, ValueError, RecursionError):
                self.entries = _entries(json.loads(read_regular(path, MAX_CACHE_BYTES)))

    def digest(self, root: Path | str, name: str) -> FileDigest | None:
        """The digest of project file `name` now; None when it is missing or not a regular
        file (a symlink or a directory is not an output voxform wrote)."""
        # a string, no Path made for each of 20,000 files (nor a join: `name` is relative)
        path = f"{root}/{name}" if type(root) is str else os.path.join(root, name)
        try:
            st = os.lstat(path)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        cached = self.entries.get(name)
        if (
            cached is not None
            and cached[1] == st.st_mtime_ns
            and cached[0] == st.st_size
            and cached[2] == st.st_ino
        ):
            return FileDigest(cached[3], cached[0])
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        if st.st_size > MAX_HASHED:
            return FileDigest("", st.st_size)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb", buffering=0) as handle:  # unbuffered: no isatty, no fstat
            sha = hashlib.file_digest(handle, "sha256").hexdigest()
        self.entries[name] = (*key, sha)
        self.dirty = True
        self.fresh.add(name)
        return FileDigest(sha, st.st_size)

    def save(self, *, now_ns: int | None = None) -> None:
        """Write the cache if it learnt anything, leaving out racily clean entries (an mtime
        not settled when the files were read: `now_ns`, by default when the cache was
        opened, before any); a cache that cannot be written is only a slower next plan.
        When all it learnt is racily clean, it would write what it read: it is not written."""
        if self.path is None or not self.dirty:
            return
        since = self.opened if now_ns is None else now_ns
        entries = self.entries
        if not any(settled(entries[n][1], since) for n in self.fresh if n in entries):
            self.dirty = False
            self.fresh.clear()
            return
        kept = {k: v for k, v in entries.items() if settled(v[1], since)}  # tuples: JSON arrays
        with contextlib.suppress(OSError):
            data = json.dumps(kept, separators=(",", ":")).encode()
            write_atomic(self.path, data, durable=False, root=self.root)
        self.dirty = False
        self.fresh.clear()


# Project files this process wrote (apply's subtitles), by project root: each one's stat as
# written and the digest of the bytes written, so that the stat cache can learn them without
# reading them again (`save_written`), and the plan after an apply reads none of them.
_WRITTEN: dict[str, dict[str, tuple[int, int, int, str]]] = {}
_writing = threading.Lock()  # apply's workers write subtitles in parallel
_REAL: dict[str, str] = {}  # a root as given -> as resolved: the same project, however named


def _real(root: Path) -> str:
    given = str(root)
    found = _REAL.get(given)
    if found is None:
        found = _REAL[given] = str(root.resolve())
    return found


def remember_written(root: Path, name: str, written: os.stat_result, digest: FileDigest) -> None:
    """Note that this process wrote `digest`'s bytes to project file `name` (relative to
    `root`), which had the stat `written` as it was written."""
    if written.st_size != digest.size or not stat.S_ISREG(written.st_mode):
        return
    entry = (written.st_size, written.st_mtime_ns, written.st_ino, digest.sha256)
    real = _real(root)
    with _writing:
        _WRITTEN.setdefault(real, {})[name] = entry


def save_written(root: Path, cache_path: Path, *, now_ns: int | None = None) -> int:
    """Add the files this process wrote below `root` (`remember_written`) to the stat cache
    at `cache_path`, and forget them; how many were noted. One whose mtime is not settled
    (state/racy.py) at the writing (`now_ns`, by default now) is left out: a write in the
    clock tick of the cache's writing would have left its stat as it was."""
    real = _real(root)
    with _writing:
        written = _WRITTEN.pop(real, None)
    if not written:
        return 0
    cache = StatCache(cache_path, root=root)
    cache.entries.update(written)
    cache.dirty = True
    cache.fresh.update(written)
    cache.save(now_ns=time.time_ns() if now_ns is None else now_ns)
    return len(written)


def _entries(raw: object) -> dict[str, tuple[int, int, int, str]]:
    """The well-formed entries of a cache file; anything else is left out (a slower plan)."""
    entries = {}
    for name, value in (raw if type(raw) is dict else {}).items():
        if type(value) is list and len(value) == 4:
            size, mtime, inode, sha = value
            if type(size) is int and type(mtime) is int and type(inode) is int and type(sha) is str:
                entries[name] = (size, mtime, inode, sha)
    return entries


def drift(
    root: Path, recorded: Iterable[tuple[str, Mapping[str, Output]]], cache: StatCache
) -> dict[str, str]:
    """Items whose recorded output files are missing or changed, with the reason (naming the
    first such file). `recorded` gives each item's outputs (its objects are not looked at
    here); paths are checked to stay in the project, and a path that does not counts as
    changed."""
    reasons: dict[str, str] = {}
    real_root = str(root.resolve())
    lstat = Below(real_root)
    try:
        _drift(real_root, recorded, cache, lstat, reasons)
    finally:
        lstat.close()
    cache.save()
    return reasons


def _drift(
    real_root: str,
    recorded: Iterable[tuple[str, Mapping[str, Output]]],
    cache: StatCache,
    lstat: Below,
    reasons: dict[str, str],
) -> None:
    entries, regular = cache.entries, stat.S_ISREG
    folders: dict[str, bool] = {}  # whether each folder met is a plain path
    for key, outputs in recorded:
        for name, expected in outputs.items():
            if type(expected) is not FileDigest:
                continue
            if not _plain_in(name, folders):
                reasons[key] = f"output file changed: {name!r} is not a project path"
                break
            # The usual case first, as StatCache.digest finds it: a regular file whose
            # size, mtime and inode are those cached (no FileDigest made for it).
            cached = entries.get(name)
            if cached is not None:
                try:
                    st = lstat(name)
                except (OSError, ValueError):
                    reasons[key] = f"output file missing: {name}"
                    break
                if (
                    cached[1] == st.st_mtime_ns
                    and cached[0] == st.st_size
                    and cached[2] == st.st_ino
                    and regular(st.st_mode)
                ):
                    if cached[3] != expected.sha256 or cached[0] != expected.size:
                        reasons[key] = f"output file changed: {name}"
                        break
                    continue
            found = cache.digest(real_root, name)
            if found is None:
                reasons[key] = f"output file missing: {name}"
                break
            if found != expected:
                reasons[key] = f"output file changed: {name}"
                break


def _plain_in(name: str, folders: dict[str, bool]) -> bool:
    """`_plain(name)`, its folder looked at once for all the files in it (`folders`)."""
    folder, slash, leaf = name.rpartition("/")
    if leaf in ("", ".", "..") or "\\" in leaf or "\x00" in leaf:
        return False
    if not slash:
        return True
    plain = folders.get(folder)
    if plain is None:
        plain = folders[folder] = _plain(folder)
    return plain


def _plain(name: str) -> bool:
    """A relative POSIX path with no empty, `.` or `..` segment."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return False
    wrapped = f"/{name}/"  # an empty, `.` or `..` segment, first and last ones included
    return "//" not in wrapped and "/./" not in wrapped and "/../" not in wrapped


# -- the evidence a deletion needs ------------------------------------------------------------


class Kept(NamedTuple):
    """A file a deletion leaves where it is, and why. `lasting`: voxform would never delete
    it (so the lockfile may forget it); otherwise it might later (a symlink removed, the
    recorded bytes back), so the lockfile keeps naming it."""

    file: str
    why: str
    lasting: bool


def kept_by_rule(name: str, recorded: FileDigest | None, folders: Collection[str]) -> Kept | None:
    """Why `name` may not be deleted whatever the disk holds, or None: it must be a plain
    project path with an output suffix, inside one of `folders` (its target's own output and
    subtitle folders), with a digest on record."""
    if not _plain(name):
        return Kept(name, "not a plain path inside the project", True)
    if posixpath.splitext(name)[1].lower() not in OUTPUT_SUFFIXES:
        return Kept(name, "not an audio or subtitle file, so voxform never deletes it", True)
    if not any(f == "." or name.startswith(f + "/") for f in folders):
        shown = ", ".join(sorted(folders)) or "none"
        return Kept(name, f"outside its target's output folders ({shown})", True)
    if recorded is None:
        return Kept(name, "no digest of it is recorded, so nothing shows voxform wrote it", True)
    return None


def kept_on_disk(
    root: Path, name: str, recorded: FileDigest, cache: StatCache
) -> Kept | Literal["delete", "gone"]:
    """What the disk says of deleting `name` (which passed `kept_by_rule`): "delete" when it
    is a regular file reached through no symlink, removable, and still the recorded bytes;
    "gone" when there is nothing; else why it stays."""
    try:
        check_writable(below(root, name), root=root, verb="remove")
    except (UnsafeFileError, PathEscapeError) as exc:
        return Kept(name, str(exc), False)
    except OSError as exc:
        return Kept(name, f"cannot be looked at: {exc.strerror or exc}", False)
    found = cache.digest(root, name)
    if found is None:
        return "gone"
    if found != recorded:
        return Kept(name, "changed since voxform wrote it (not the bytes recorded)", False)
    return "delete"
