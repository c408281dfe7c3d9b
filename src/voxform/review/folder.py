"""The page's folder: where it is (inside the project, or a folder named explicitly), and its
audio and subtitle files, named by the SHA-256 of their bytes.

A file whose bytes are already on disk (a recorded file, a cached preview) is hard-linked,
not copied: voxform replaces those files by renaming, never by writing into them, so the
page keeps the bytes it was written with; one who edits a recorded file in place edits the
page's too (and the next review shows it as changed since it was made)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import stat
import threading
from pathlib import Path

from voxform.errors import PathEscapeError
from voxform.files import remove_file, temporary_name, write_atomic_files

DEFAULT_OUT = "build/review"
AUDIO = "audio"  # the page's files, beside index.html
RESERVED = (".voxform", ".git")  # voxform's state and git's: never a page's folder
NAME_DIGITS = 16  # hex digits of a file's SHA-256 in its name
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC


def page_folder(root: Path, start: Path, given: Path | None) -> tuple[Path, Path]:
    """The page's folder and the folder trusted to hold it (no symlink is followed below
    that one when a file is written). Not given: `build/review/` in the project. Given
    (relative to `start`, the folder the command runs in, or absolute): inside the project
    it is checked as every project path is (not in .voxform/ or .git/); outside it, the
    user named it, and it is trusted itself."""
    if given is None:
        return root / DEFAULT_OUT, root
    text = str(given)
    if "\x00" in text:
        raise PathEscapeError(f"{text!r} has a NUL character, which no folder name holds")
    path = given if given.is_absolute() else start.absolute() / given
    relative = posixpath.normpath(posixpath.relpath(path.as_posix(), root.absolute().as_posix()))
    if relative == ".." or relative.startswith("../") or posixpath.isabs(relative):
        return Path(posixpath.normpath(path.as_posix())), Path(posixpath.normpath(path.as_posix()))
    if relative == ".":
        raise PathEscapeError(f"--out {text}: the page needs a folder of its own, not the project")
    if relative.split("/")[0] in RESERVED:
        raise PathEscapeError(f"--out {text} is inside {relative.split('/')[0]}/, not for a page")
    return root / relative, root


class PageFiles:
    """The files beside the page, written as they come (each once), named by content."""

    def __init__(self, out: Path, trusted: Path) -> None:
        self.out = out
        self.trusted = trusted
        self._written: set[str] = set()
        self._checked = False  # whether the folder was reached (no symlink on the way)
        self._folder: int | None = None  # the audio folder, open once reached
        self._guard = threading.Lock()
        self._reaching = threading.Lock()
        self.linked = 0  # files linked from where their bytes already were

    def put(
        self, data: bytes, ext: str, source: Path | None = None, sha256: str | None = None
    ) -> str:
        """Write `data` as audio/<sha256, 16 hex>.<ext>; its path relative to the page.
        `source`: a file that holds these bytes (a recorded file, a cached preview), linked
        instead when it still holds them: no copy, no new file for the file system to make
        (thousands of new files are much of a cold review's time). `sha256`: the digest of
        `data` when the caller has it already."""
        name = f"{(sha256 or hashlib.sha256(data).hexdigest())[:NAME_DIGITS]}.{ext}"
        with self._guard:
            if name in self._written:
                return f"{AUDIO}/{name}"
            self._written.add(name)
        self._reach()
        # An earlier review's file of these very bytes stays as it is (a rename of thousands
        # of files costs more than reading them).
        if _holds(self.out / AUDIO / name if self._folder is None else name, data, self._folder):
            return f"{AUDIO}/{name}"
        if source is None or not self._link(source, name, data):
            write_atomic_files(self.out / AUDIO, {name: data}, durable=False, root=self.trusted)
        return f"{AUDIO}/{name}"

    def __enter__(self) -> PageFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._guard:
            folder, self._folder = self._folder, None
        if folder is not None:
            os.close(folder)

    def _reach(self) -> None:
        """Once: make the audio folder, refusing a symlink on the way (write_atomic_files),
        and keep it open for links into it."""
        with self._reaching:
            if self._checked:
                return
            write_atomic_files(self.out / AUDIO, {}, durable=False, root=self.trusted)
            self._checked = True
            with contextlib.suppress(OSError):
                self._folder = os.open(self.out / AUDIO, _DIRECTORY | os.O_NOFOLLOW)

    def _link(self, source: Path, name: str, data: bytes) -> bool:
        """Link `source` into the folder as `name` when it holds `data` (checked on the link
        itself, after it is made; a symlink is not followed); False when it cannot be
        (another file system, a file that changed), and the caller writes the bytes."""
        folder = self._folder
        if folder is None:
            return False
        temporary = temporary_name(name)
        try:
            os.link(source, temporary, dst_dir_fd=folder, follow_symlinks=False)
        except OSError:
            return False
        try:
            if _holds(temporary, data, folder):
                os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
                with self._guard:
                    self.linked += 1
                return True
        except OSError:
            pass
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        return False

    def prune(self) -> int:
        """Remove the files of earlier reviews that this page does not name (only files
        named as this module names them); how many went."""
        folder = self.out / AUDIO
        try:
            names = os.listdir(folder)
        except OSError:
            return 0
        removed = 0
        for name in names:
            stem, dot, _ = name.partition(".")
            if not dot or len(stem) != NAME_DIGITS or name in self._written:
                continue
            if all(c in "0123456789abcdef" for c in stem) and remove_file(
                folder / name, root=self.trusted
            ):
                removed += 1
        return removed


def _holds(path: Path | str, data: bytes, folder: int | None = None) -> bool:
    """Whether `path` (in `folder`, a descriptor, if given) is a regular file (not a link)
    holding exactly `data`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | _CLOEXEC, dir_fd=folder)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
            return False
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read() == data
    finally:
        os.close(fd)
