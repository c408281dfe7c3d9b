"""The page's folder: where it is (inside the project, or a folder named explicitly), and its
audio and subtitle files, named by the SHA-256 of their bytes."""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import threading
from pathlib import Path

from voxform.errors import PathEscapeError
from voxform.files import remove_file, write_atomic_files

DEFAULT_OUT = "build/review"
AUDIO = "audio"  # the page's files, beside index.html
RESERVED = (".voxform", ".git")  # voxform's state and git's: never a page's folder
NAME_DIGITS = 16  # hex digits of a file's SHA-256 in its name


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
        self._checked = False  # whether a write reached the folder (no symlink on the way)
        self._guard = threading.Lock()

    def put(self, data: bytes, ext: str) -> str:
        """Write `data` as audio/<sha256, 16 hex>.<ext>; its path relative to the page."""
        name = f"{hashlib.sha256(data).hexdigest()[:NAME_DIGITS]}.{ext}"
        with self._guard:
            if name in self._written:
                return f"{AUDIO}/{name}"
            self._written.add(name)
            checked = self._checked
            self._checked = True
        # An earlier review's file of these very bytes stays as it is (a rename of thousands
        # of files costs more than reading them); the first write of a run goes through
        # write_atomic_files, which refuses a symlink on the way to the folder.
        if not (checked and _holds(self.out / AUDIO / name, data)):
            write_atomic_files(self.out / AUDIO, {name: data}, durable=False, root=self.trusted)
        return f"{AUDIO}/{name}"

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


def _holds(path: Path, data: bytes) -> bool:
    """Whether `path` is a regular file (not a link) holding exactly `data`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
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
