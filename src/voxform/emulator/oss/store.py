"""The emulated buckets: `<storage>/<bucket>/<key>`, the folder ICE jobs write into.

A key is a path below its bucket's folder, so a key the folder cannot hold faithfully is
refused (InvalidObjectName): an empty, `.` or `..` segment, a trailing `/`, a NUL, and
anything that resolves outside the storage folder through a symlink. ETag (the MD5 of the
bytes, quoted, as OSS gives a simple upload) and CRC-64 are computed when first asked and
kept while the file's size, time and inode stay the same. Writes go to a temporary file
beside the object and are renamed (or, when overwriting is forbidden, linked) into place,
so a reader never sees part of an object.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from voxform.errors import PathEscapeError
from voxform.files import temporary_name
from voxform.oss.crc64 import crc64
from voxform.oss.documents import ObjectInfo
from voxform.oss.names import bucket_problem, key_problem
from voxform.paths import inside

_TEMPORARY_SUFFIX = ".voxform-tmp"  # what voxform.files.temporary_name ends with
DIGESTS = 4096  # as many as synthesis.silent_audio keeps: the same bytes objects


class StoreError(Exception):
    """An OSS error answer from the store: status, code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def no_such_key() -> StoreError:
    return StoreError(404, "NoSuchKey", "The specified key does not exist.")


@dataclass(frozen=True)
class _Seen:
    signature: tuple[int, int, int]
    etag: str
    crc64: int


class ObjectStore:
    """Objects as files below `storage`; every method is safe to call from many threads."""

    def __init__(self, storage: Path) -> None:
        self.storage = storage
        self._seen: dict[str, _Seen] = {}
        # ETag and CRC-64 of the bytes `written` was given, by the bytes (whose hash Python
        # keeps once computed): silence of one length is the same bytes object every time.
        self._digests: dict[bytes, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def path(self, bucket: str, key: str) -> Path:
        """The file of an object; StoreError for a name the folder cannot hold."""
        if bucket_problem(bucket) is not None:
            raise StoreError(400, "InvalidBucketName", f"The bucket name {bucket!r} is invalid.")
        parts = key.split("/")
        if (
            key_problem(key) is not None
            or "\x00" in key
            or any(part in ("", ".", "..") or part.endswith(_TEMPORARY_SUFFIX) for part in parts)
        ):
            raise StoreError(400, "InvalidObjectName", f"The object name {key!r} is invalid.")
        try:
            return inside(self.storage, f"{bucket}/{key}")
        except PathEscapeError:
            raise StoreError(
                400, "InvalidObjectName", f"The object {key!r} escapes its bucket."
            ) from None

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """ETag, size, CRC-64 and time of an object; NoSuchKey when there is none."""
        path = self.path(bucket, key)
        try:
            status = path.stat()
            if not path.is_file():
                raise no_such_key()
            return self._info(key, str(path), status)
        except OSError:
            raise no_such_key() from None

    def listed(self, bucket: str, keys: Iterable[str]) -> list[ObjectInfo]:
        """`head` of each of `keys`, which `keys_after` has just found by walking the bucket's
        folder with no symlink followed: their files are below the storage by how they were
        found, so each costs one lstat, not a realpath of every folder on its way (which made
        a page of 1,000 objects take a fifth of a second). A key no longer a regular file
        (deleted meanwhile) is left out. The digests kept are looked up under one lock for
        the page, and a time is made once for the files changed in its clock tick."""
        folder = os.path.join(self.storage.resolve(), bucket) + os.sep
        found: list[tuple[str, str, os.stat_result]] = []
        for key in keys:
            path = folder + key
            try:
                status = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(status.st_mode):
                found.append((key, path, status))
        with self._lock:
            seen = [self._seen.get(path) for _, path, _ in found]
        times: dict[int, datetime] = {}
        listed = []
        for (key, path, status), known in zip(found, seen, strict=True):
            mtime = status.st_mtime_ns
            if known is None or known.signature != (status.st_size, mtime, status.st_ino):
                listed.append(self._info(key, path, status))
                continue
            modified = times.get(mtime)
            if modified is None:
                modified = times[mtime] = datetime.fromtimestamp(status.st_mtime, UTC)
            listed.append(ObjectInfo(key, known.etag, status.st_size, known.crc64, modified))
        return listed

    def _info(self, key: str, path: str, status: os.stat_result) -> ObjectInfo:
        """The facts of regular file `path` (resolved), whose stat is `status`: its digests
        as kept while the file's size, time and inode stay, else read now."""
        signature = (status.st_size, status.st_mtime_ns, status.st_ino)
        with self._lock:
            seen = self._seen.get(path)
        if seen is None or seen.signature != signature:
            with open(path, "rb") as handle:
                data = handle.read()
            seen = _Seen(signature, _etag(data), crc64(data))
            with self._lock:
                self._seen[path] = seen
        modified = datetime.fromtimestamp(status.st_mtime, UTC)
        return ObjectInfo(key, seen.etag, status.st_size, seen.crc64, modified)

    def written(self, path: str | Path, data: bytes, status: os.stat_result | None = None) -> None:
        """A job has just written `data` to the object file `path` (resolved, below the
        storage; `status` its stat when the writer has it): its ETag and CRC-64 are known
        without reading the file back, as `head` (and so every listing) would. Nothing is
        remembered if the file is not `data`'s. Meant for bytes written again and again
        (`--synthesis silence`): the digests of up to DIGESTS of them are kept, and the
        bytes with them."""
        with self._lock:
            digests = self._digests.get(data)
        if digests is None:
            digests = _etag(data), crc64(data)
            with self._lock:
                if len(self._digests) >= DIGESTS:
                    self._digests.clear()
                self._digests[data] = digests
        if status is None:
            try:
                status = os.stat(path)
            except OSError:
                return
        if status.st_size == len(data):  # else overwritten meanwhile: head reads it
            seen = _Seen((status.st_size, status.st_mtime_ns, status.st_ino), *digests)
            with self._lock:
                self._seen[str(path)] = seen

    def read(self, bucket: str, key: str) -> tuple[ObjectInfo, bytes]:
        """An object's facts and bytes (read once: the facts are those of these bytes)."""
        path = self.path(bucket, key)
        try:
            data = path.read_bytes()
            status = path.stat()
        except OSError:
            raise no_such_key() from None
        modified = datetime.fromtimestamp(status.st_mtime, UTC)
        return ObjectInfo(key, _etag(data), len(data), crc64(data), modified), data

    def write(self, bucket: str, key: str, data: bytes, *, forbid_overwrite: bool) -> ObjectInfo:
        """Store an object; FileAlreadyExists (409) for an existing key when forbidden."""
        path = self.path(bucket, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            raise StoreError(409, "InvalidObjectName", f"A part of {key!r} is an object.") from None
        self.path(bucket, key)  # a symlink made meanwhile must not lead out
        temporary = path.parent / temporary_name(path.name)
        temporary.write_bytes(data)
        try:
            if forbid_overwrite:
                try:
                    os.link(temporary, path)
                except FileExistsError:
                    raise StoreError(
                        409, "FileAlreadyExists", "The object you specified already exists."
                    ) from None
            else:
                if path.is_dir():
                    raise StoreError(409, "InvalidObjectName", f"{key!r} is a prefix of objects.")
                os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return ObjectInfo(key, _etag(data), len(data), crc64(data), modified)

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object; one that is not there is no error (as OSS answers 204)."""
        try:
            path = self.path(bucket, key)
        except StoreError:
            return
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            if path.is_file():
                path.unlink()

    def keys(self, bucket: str, prefix: str) -> list[str]:
        """Every key of the bucket starting with `prefix`, in OSS's order (UTF-8 bytes)."""
        return self.keys_after(bucket, prefix, "", sys.maxsize)

    def keys_after(self, bucket: str, prefix: str, after: str, limit: int) -> list[str]:
        """The first `limit` keys of the bucket that start with `prefix` and sort after
        `after`, in OSS's order (UTF-8 bytes). Folders are walked in that order and one
        wholly before `after` or beside `prefix` is passed over: a page costs what it
        lists, where reading the whole bucket for each page made listing a bucket of
        10,000 objects take seconds. What each entry is comes with the folder's listing:
        no stat per object."""
        if bucket_problem(bucket) is not None:
            raise StoreError(400, "InvalidBucketName", f"The bucket name {bucket!r} is invalid.")
        start, low = prefix.encode(), after.encode()
        found: list[str] = []

        def walk(folder: str, base: str) -> None:
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError:
                return
            named: list[tuple[bytes, str, bool]] = []
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    named.append(((base + entry.name + "/").encode(), entry.path, True))
                elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(
                    _TEMPORARY_SUFFIX
                ):  # a symlink is no object
                    named.append(((base + entry.name).encode(), entry.path, False))
            named.sort()
            for key, path, folder_ in named:
                if len(found) >= limit:
                    return
                if folder_:
                    beside = not key.startswith(start[: len(key)])
                    before = key < low and not low.startswith(key)  # every key below is
                    if not (beside or before):
                        walk(path, key.decode())
                elif key.startswith(start) and key > low:
                    found.append(key.decode())

        walk(str(self.storage / bucket), "")
        return found


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest().upper()}"'
