"""Writing files so that a crash leaves either the old bytes or the new.

Writes and removals never go through a symlink: below a trusted directory (the project root,
or the file's own folder when no root is given) each directory is opened with O_NOFOLLOW and
the file is created, renamed and removed relative to its folder's descriptor, so a link
swapped in between a check and the write cannot redirect it; every file is opened with
O_NOFOLLOW, and O_EXCL when it is new. A read-only file is not replaced: the user made it
so on purpose. Every writer (lockfile, journal, lease, caches, outputs, subtitles) goes
through this module, so there is one way to write and one place to get it right.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Literal

from voxform.beneath import find_beneath, open_beneath
from voxform.errors import VoxformError


class UnsafeFileError(VoxformError, PermissionError):
    """A write or removal refused: a symlink on the way, a read-only or special file. Also
    a PermissionError, so that a writer that may fail quietly (a cache) also may here."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# A temporary file is `.NAME.PID-RUN-SERIAL.voxform-tmp`: the pid says whether its writer
# still lives, the serial keeps one process's names apart, and the random RUN (with the
# marker) means that no user file is ever taken for one and removed by the sweep, and that
# no one can plant a link under the name voxform will use next.
_serial = itertools.count()
_RUN = secrets.token_hex(4)
_MARKER = ".voxform-tmp"
_TEMPORARY = re.compile(r"^\..*\.(\d+)-[0-9a-f]{8}-\d+" + re.escape(_MARKER) + "$")
_swept: set[Path] = set()  # folders this process has swept
_sweeping = threading.Lock()
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_QUICK = getattr(os, "O_NONBLOCK", 0) | _CLOEXEC  # a FIFO must not hang an open
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | _CLOEXEC
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK}  # what O_NOFOLLOW gives for a link (Linux, BSD)

_pid = [os.getpid()]  # a system call each time, twice per item an apply finishes
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def temporary_name(name: str) -> str:
    """The name of a new temporary file of this process for the file `name` (beside it)."""
    # a long name is cut, so that any name the file system takes has a temporary one
    short = name.encode()[:120].decode(errors="ignore")
    return f".{short}.{_pid[0]}-{_RUN}-{next(_serial)}{_MARKER}"


WriteData = bytes | list[bytes] | Callable[[BinaryIO], object]


def write_atomic(
    path: Path,
    data: WriteData,
    *,
    durable: bool = True,
    root: Path | None = None,
    stats: dict[str, os.stat_result] | None = None,
) -> None:
    """Write to a temporary file beside `path`, fsync it, rename it over `path`, fsync the dir.
    `data` is the bytes, a list of pieces written one after another (never joined), or a
    function that writes them to the file it is given (a download): when it raises, nothing
    is renamed and the temporary file goes.

    A reader sees the old bytes or the new, never a part. With `durable=False` the fsyncs are
    left out: the file survives a crash of this process but not necessarily of the machine
    (for derived files that are cheap to make again and costly to sync by the thousand).
    With `root`, no directory between it and `path` may be a symlink (missing ones are made).
    UnsafeFileError, writing nothing, when `path` is a symlink, read-only or not a file.
    Temporary files that a killed writer left in the folder go at its first write here.
    `stats`: as for write_atomic_files, by the file's name.
    """
    files = {path.name: data}
    write_atomic_files(path.parent, files, durable=durable, root=root, stats=stats)


def write_atomic_files(
    folder_path: Path,
    files: Mapping[str, WriteData],
    *,
    durable: bool = True,
    root: Path | None = None,
    stats: dict[str, os.stat_result] | None = None,
) -> None:
    """`write_atomic` of several files (name -> bytes) in one folder, reached once: each
    file whole or as it was, in the order given. `stats`, when given, gets each file's stat
    as written (kept by the rename: a stat cache can take the written bytes for that stat)."""
    with _folder(folder_path, root, create=True) as folder:
        assert folder is not None
        _sweep(folder, folder_path)
        for name, data in files.items():
            _check_replaceable(folder, name, lambda: _shown(folder_path / name, root), "write")  # noqa: B023
            tmp = temporary_name(name)
            fd = os.open(tmp, _NEW, 0o666, dir_fd=folder)  # the user's umask decides
            written: os.stat_result | None = None
            try:
                try:
                    _write_data(fd, data)
                    if durable:
                        os.fsync(fd)
                    if stats is not None:
                        written = os.fstat(fd)
                finally:
                    os.close(fd)
                os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
                if written is not None and stats is not None:
                    stats[name] = written
            except BaseException as exc:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=folder)
                if isinstance(exc, OSError):
                    exc.filename = str(folder_path / name)  # the file, not its temporary
                raise
        if durable:
            with contextlib.suppress(OSError):
                os.fsync(folder)


def _write_data(fd: int, data: WriteData) -> None:
    """Write `data` (bytes, pieces of bytes, or a function that writes to a file) to `fd`."""
    if callable(data):
        with os.fdopen(fd, "wb", closefd=False) as handle:
            data(handle)
        return
    for piece in [data] if isinstance(data, bytes) else data:
        view = memoryview(piece)
        while view:
            view = view[os.write(fd, view) :]


def check_writable(
    path: Path, *, root: Path | None = None, verb: Literal["write", "remove"] = "write"
) -> None:
    """What `write_atomic` (or `remove_file`) would refuse, raised now, doing nothing: a
    folder it cannot write in included."""
    check_writable_files(path.parent, (path.name,), root=root, verb=verb)


def check_writable_files(
    folder_path: Path,
    names: Sequence[str],
    *,
    root: Path | None = None,
    verb: Literal["write", "remove"] = "write",
) -> None:
    """`check_writable` of several files in one folder, reached once, in the order given."""
    with _folder(folder_path, root, create=False) as folder:
        if folder is None:
            return
        for name in names:
            _check_replaceable(folder, name, lambda: _shown(folder_path / name, root), verb)  # noqa: B023
        # access() and not the mode bits: root may write in a folder of mode 0555, and no
        # one on a read-only file system
        if names and not os.access(".", os.W_OK, dir_fd=folder):
            raise UnsafeFileError(
                f"the folder of {_shown(folder_path / names[0], root)} is not writable, so"
                f" voxform cannot {verb} it"
            )


def check_creatable(path: Path) -> None:
    """OSError unless a new file can be made beside `path`, as `write_atomic` makes one: a
    temporary file is created and removed there, under a name no one can plant a link at.
    (access() is not enough: it lets root write in /proc, where nothing can be created.)"""
    with _folder(path.parent, None, create=False) as folder:
        if folder is None:
            return  # made by the write
        name = temporary_name(path.name)
        try:
            os.close(os.open(name, _NEW, 0o666, dir_fd=folder))
        except OSError as exc:
            raise OSError(exc.errno, f"{exc.strerror}, making a file beside {path}") from None
        os.unlink(name, dir_fd=folder)


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
        _check_replaceable(folder, path.name, lambda: _shown(path, root), "remove")
        try:
            os.unlink(path.name, dir_fd=folder)
        except FileNotFoundError:
            return False
        return True


def open_appending(path: Path, *, root: Path) -> BinaryIO:
    """`path` below `root` open for reading and appending (made when missing), unbuffered;
    UnsafeFileError for a symlink on the way or at `path`, or a file that is not regular."""
    with _folder(path.parent, root, create=True) as folder:
        assert folder is not None
        shown = _shown(path, root)
        flags = os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | _QUICK
        try:
            fd = os.open(path.name, flags, 0o666, dir_fd=folder)
        except OSError as exc:
            _refuse_special(folder, path.name, shown, exc)
            raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeFileError(f"{shown} is not a regular file; voxform will not write it")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "a+b", buffering=0)
    except BaseException:
        os.close(fd)
        raise


def create_new(path: Path, data: bytes, *, root: Path) -> None:
    """Create `path` below `root` holding `data`, fsync'd; FileExistsError when anything is
    there already (a symlink, dangling or not, included), UnsafeFileError for one on the way."""
    with _folder(path.parent, root, create=True) as folder:
        assert folder is not None
        fd = os.open(path.name, _NEW, 0o666, dir_fd=folder)  # the user's umask decides
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path.name, dir_fd=folder)
            raise


def remove_entry(path: Path, *, root: Path) -> bool:
    """Remove the name `path` below `root`, whatever it is but a directory: a symlink goes,
    not what it names. False when there is nothing; UnsafeFileError for a directory there or
    a symlink on the way."""
    with _folder(path.parent, root, create=False) as folder:
        if folder is None:
            return False
        try:
            if stat.S_ISDIR(os.stat(path.name, dir_fd=folder, follow_symlinks=False).st_mode):
                raise UnsafeFileError(
                    f"{_shown(path, root)} is a directory; voxform removes no directory"
                )
            os.unlink(path.name, dir_fd=folder)
        except FileNotFoundError:
            return False
        return True


def _refuse_special(folder: int, name: str, shown: str, exc: OSError) -> None:
    """UnsafeFileError when opening `name` failed (`exc`) because it is a symlink or a
    special file (a FIFO without a reader); nothing for other failures."""
    if exc.errno not in {*_LINK_ERRNOS, errno.ENXIO, errno.EISDIR}:
        return
    try:
        _check_replaceable(folder, name, lambda: shown, "write")
    except UnsafeFileError:
        raise
    except OSError:
        return  # the first failure says more


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
        parts = _parts_below(folder, root)
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
    quick = (open_beneath if create else find_beneath)(fd, "/".join(parts)) if parts else None
    if quick is not None:
        os.close(fd)  # there (or surely not), with no symlink on the way: no walk is needed
        fd, parts = quick, ()
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


def _parts_below(folder: Path, root: Path) -> tuple[str, ...]:
    """`folder.relative_to(root)`'s parts, ("..",) when not below; by string if it can be."""
    whole, prefix = str(folder), str(root).rstrip("/") + "/"
    if os.sep == "/" and whole.startswith(prefix) and len(whole) > len(prefix):
        return tuple(whole[len(prefix) :].split("/"))
    try:
        return PurePosixPath(folder.relative_to(root).as_posix()).parts
    except ValueError:
        return ("..",)


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


def _check_replaceable(folder: int, name: str, named: Callable[[], str], verb: str) -> None:
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFileError(
            f"{named()} is a symlink, and voxform never writes or deletes through one; "
            f"remove the link to let it {verb} the file"
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(f"{named()} is not a regular file; voxform will not {verb} it")
    # Root may write anything, so the mode bits, not access(), say what the user meant.
    if not info.st_mode & 0o222 or not os.access(name, os.W_OK, dir_fd=folder):
        raise UnsafeFileError(
            f"{named()} is read-only, so voxform will not {verb} it; make it writable if it should"
        )


def _shown(path: Path, root: Path | None) -> str:
    """`path` as a message names it: relative to the project when it is known."""
    return path.relative_to(root).as_posix() if root is not None else str(path)


def _sweep(folder: int, path: Path) -> None:
    """Remove the temporary files (named by `temporary_name`) of writers that died (kill -9,
    power loss); once per folder and process, and never those of a live process (this one
    included). A name without voxform's marker and run token is a user's: it stays."""
    with _sweeping:
        if path in _swept:
            return
        _swept.add(path)
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if e.name.endswith(_MARKER)]
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None or int(match.group(1)) == os.getpid() or pid_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=folder)
