"""A local target's folder as a `Storage`: its files by project-relative path.

Every read goes through the rules deletions and drift already keep (state/outputs.py): a
regular file reached through no symlink, still the bytes recorded before it is copied or
removed. A local target's audio is recorded when it is written, so apply never has to look.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from voxform.errors import ItemError, PathEscapeError
from voxform.files import UnsafeFileError, remove_file, write_atomic
from voxform.ice.wire import AudioRequest
from voxform.manifest.model import Target
from voxform.paths import below
from voxform.providers.local import DEFAULT_PATH, audio_file
from voxform.providers.oss_errors import ObjectConflict, ObjectMissing
from voxform.providers.protocol import Deleted, Resources, StorageOperation, StoredPage
from voxform.reading import read_regular
from voxform.state.outputs import (
    MAX_HASHED,
    FileDigest,
    Kept,
    Output,
    StatCache,
    digest_of,
    kept_on_disk,
)


class LocalStorage:
    """The project's files under one local target's path."""

    operations: Mapping[StorageOperation, str] = {}  # the disk is not rate-limited

    def __init__(self, root: Path, path: str) -> None:
        self.root = root.resolve()
        self.path = path

    @classmethod
    def for_target(cls, target: Target, resources: Resources) -> LocalStorage:
        return cls(resources.root, target.path or DEFAULT_PATH)

    def audio_name(self, request: AudioRequest) -> str:
        return audio_file(self.path, request)

    def head(self, name: str) -> FileDigest | None:
        self._place(name)
        return StatCache(None).digest(self.root, name)

    def list(self, prefix: str, page: str | None = None, *, after: str | None = None) -> StoredPage:
        """Every regular file whose path starts with `prefix` (and sorts after `after`),
        in one page."""
        folder = prefix.rpartition("/")[0]
        cache = StatCache(None)
        found: list[tuple[str, Output]] = []
        for top, dirs, files in os.walk(self._place(folder) if folder else self.root):
            dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(top, d)))
            for file in sorted(files):
                name = Path(top, file).relative_to(self.root).as_posix()
                if after is not None and name <= after:
                    continue
                if name.startswith(prefix) and (digest := cache.digest(self.root, name)):
                    found.append((name, digest))
        return StoredPage(tuple(found), None)

    def copy_if_match(self, source: str, expected: Output, destination: str) -> FileDigest:
        data = self._read(source, expected)
        try:
            write_atomic(self._place(destination), data, root=self.root)
        except UnsafeFileError as exc:
            raise ItemError(str(exc), code="UnsafeOutput") from exc
        return digest_of(data)

    def delete_many_if_match(self, recorded: Mapping[str, Output]) -> Deleted:
        cache = StatCache(None)
        deleted: list[str] = []
        kept: list[tuple[str, str]] = []
        for name, expected in recorded.items():
            if not isinstance(expected, FileDigest):
                kept.append((name, "not a project file voxform recorded"))
                continue
            found = kept_on_disk(self.root, name, expected, cache)
            if isinstance(found, Kept):
                kept.append((found.file, found.why))
            elif found == "delete":
                try:
                    if remove_file(self._place(name), root=self.root):
                        deleted.append(name)
                except (UnsafeFileError, OSError) as exc:
                    kept.append((name, str(exc)))
        return Deleted(tuple(deleted), tuple(kept))

    def get(self, name: str, expected: Output | None, destination: Path) -> FileDigest:
        data = self._read(name, expected)
        write_atomic(destination, data, root=self.root)
        return digest_of(data)

    def close(self) -> None:
        """Nothing is held open."""

    def _place(self, name: str) -> Path:
        try:
            return below(self.root, name)
        except PathEscapeError as exc:
            raise ItemError(f"output {exc}", code="InvalidOutput") from exc

    def _read(self, name: str, expected: Output | None) -> bytes:
        """The bytes of `name`, which must still be `expected` (when given)."""
        path = self._place(name)
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise ObjectMissing(f"{name} is not a regular file", code="NoSuchKey")
            data = read_regular(path, MAX_HASHED, "output file", follow=False)
        except FileNotFoundError:
            raise ObjectMissing(f"{name} is not there", code="NoSuchKey") from None
        except (UnsafeFileError, OSError) as exc:
            raise ItemError(f"{name}: {exc}", code="UnreadableOutput") from exc
        if expected is not None and digest_of(data) != expected:
            raise ObjectConflict(
                f"{name} is no longer the bytes recorded", code="PreconditionFailed"
            )
        return data
