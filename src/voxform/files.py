"""Reading text and writing files so that a crash leaves either the old bytes or the new.

Writes and removals never go through a symlink: below a trusted directory (the project root,
or the file's own folder when no root is given) each directory is opened with O_NOFOLLOW and
the file is created, renamed and removed relative to its folder's descriptor, so a link
swapped in between a check and the write cannot redirect it. A read-only file is not
replaced: the user made it so on purpose.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import stat
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from voxform.errors import VoxformError


class UnsafeFileError(VoxformError, PermissionError):
    """A write or removal refused: a symlink on the way, a read-only or special file. Also
    a PermissionError, so that a writer that may fail quietly (a cache) also may here."""


class FileTooLargeError(VoxformError):
    """A file is bigger than voxform reads of its kind."""


@contextlib.contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """`path` open for reading, if it is a regular file (symlinks followed). A FIFO, device
    or directory planted where voxform reads (a FIFO at voxform.lock would block the read for
    ever, /dev/zero would fill memory) is UnsafeFileError, without waiting on it.
    FileNotFoundError when there is nothing."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFileError(f"{path} is not a regular file; voxform reads only files here")
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_regular(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file at `path`, refusing (FileTooLargeError) one of more than
    `limit` bytes before reading it all; see `open_regular` for what else is refused."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(
            f"{path} is more than {limit:,} bytes, more than voxform reads in a {what}"
        )
    return data


def read_text(path: Path, limit: int) -> str:
    """A UTF-8 text file of at most `limit` bytes, normalized to `\\n` line ends."""
    text = read_regular(path, limit, "text file").decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_serial = itertools.count()  # with the pid, a temporary name no other writer uses
_TEMPORARY = re.compile(r"^\..+\.(\d+)\.\d+\.tmp$")  # `.NAME.PID.SERIAL.tmp`, as named below
_swept: set[Path] = set()  # folders this process has swept
_sweeping = threading.Lock()
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


def write_atomic(
    path: Path, data: bytes, *, durable: bool = True, root: Path | None = None
) -> None:
    """Write to a temporary file beside `path`, fsync it, rename it over `path`, fsync the dir.

    A reader sees the old bytes or the new, never a part. With `durable=False` the fsyncs are
    left out: the file survives a crash of this process but not necessarily of the machine
    (for derived files that are cheap to make again and costly to sync by the thousand).
    With `root`, no directory between it and `path` may be a symlink (missing ones are made).
    UnsafeFileError, writing nothing, when `path` is a symlink, read-only or not a file.
    Temporary files that a killed writer left in the folder go at its first write here.
    """
    with _folder(path.parent, root, create=True) as folder:
        assert folder is not None
        _sweep(folder, path.parent)
        _check_replaceable(folder, path.name, _shown(path, root), "write")
        # a long name is cut, so that any name the file system takes has a temporary one
        short = path.name.encode()[:120].decode(errors="ignore")
        tmp = f".{short}.{os.getpid()}.{next(_serial)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(tmp, flags, 0o666, dir_fd=folder)  # the user's umask decides
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=folder)
            raise
        if durable:
            with contextlib.suppress(OSError):
                os.fsync(folder)


def check_writable(
    path: Path, *, root: Path | None = None, verb: Literal["write", "remove"] = "write"
) -> None:
    """What `write_atomic` (or `remove_file`) would refuse, raised now, doing nothing."""
    with _folder(path.parent, root, create=False) as folder:
        if folder is not None:
            _check_replaceable(folder, path.name, _shown(path, root), verb)


def check_directory(root: Path, relative: str) -> None:
    """UnsafeFileError when a directory on the way to `relative` is a symlink or a file."""
    with _folder(root / relative, root, create=False):
        pass


def remove_file(path: Path, *, root: Path) -> bool:
    """Remove the regular file at `path` below `root`; False when there is none.
    UnsafeFileError, removing nothing, for a symlink on the way or at `path`, or a
    read-only or special file."""
    with _folder(path.parent, root, create=False) as folder:
        if folder is None:
            return False
        _check_replaceable(folder, path.name, _shown(path, root), "remove")
        try:
            os.unlink(path.name, dir_fd=folder)
        except FileNotFoundError:
            return False
        return True


@contextlib.contextmanager
def _folder(folder: Path, root: Path | None, *, create: bool) -> Iterator[int | None]:
    """A descriptor of `folder`, reached from `root` (trusted, as `folder` itself is without
    one) never through a symlink; None when it is missing and `create` is False."""
    if root is None:
        parts: tuple[str, ...] = ()
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        start = folder
    else:
        try:
            parts = PurePosixPath(folder.relative_to(root).as_posix()).parts
        except ValueError:
            parts = ("..",)
        if ".." in parts:
            raise UnsafeFileError(f"{folder} is not inside the project {root}")
        start = root
    try:
        fd = os.open(start, _DIRECTORY)
    except FileNotFoundError:
        if create:
            raise
        yield None
        return
    try:
        for depth, part in enumerate(parts, start=1):
            below = _descend(fd, part, "/".join(parts[:depth]), create)
            os.close(fd)
            fd = below
            if fd < 0:
                break
        yield fd if fd >= 0 else None
    finally:
        if fd >= 0:
            os.close(fd)


def _descend(fd: int, name: str, shown: str, create: bool) -> int:
    """The folder `name` in `fd`, opened without following a link; -1 when it is missing
    (made first when `create`)."""
    try:
        return os.open(name, _DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
    except FileNotFoundError:
        if not create:
            return -1
    except OSError:
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            raise UnsafeFileError(
                f"{shown} is a symlink, and voxform never writes or deletes through one; "
                "make it a real directory"
            ) from None
        raise UnsafeFileError(f"{shown} is not a directory") from None
    with contextlib.suppress(FileExistsError):  # another writer made it meanwhile
        os.mkdir(name, 0o777, dir_fd=fd)
    return _descend(fd, name, shown, create=False)


def _check_replaceable(folder: int, name: str, shown: str, verb: str) -> None:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFileError(
            f"{shown} is a symlink, and voxform never writes or deletes through one; "
            f"remove the link to let it {verb} the file"
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(f"{shown} is not a regular file; voxform will not {verb} it")
    # Root may write anything, so the mode bits, not access(), say what the user meant.
    if not info.st_mode & 0o222 or not os.access(name, os.W_OK, dir_fd=folder):
        raise UnsafeFileError(
            f"{shown} is read-only, so voxform will not {verb} it; make it writable if it should"
        )


def _shown(path: Path, root: Path | None) -> str:
    """`path` as a message names it: relative to the project when it is known."""
    return path.relative_to(root).as_posix() if root is not None else str(path)


def _sweep(folder: int, path: Path) -> None:
    """Remove `.NAME.PID.SERIAL.tmp` files of writers that died (kill -9, power loss);
    once per folder and process, and never those of a live process (this one included)."""
    with _sweeping:
        if path in _swept:
            return
        _swept.add(path)
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.endswith(".tmp")]
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None or int(match.group(1)) == os.getpid() or pid_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=folder)
