"""Reading text and writing files so that a crash leaves either the old bytes or the new."""

from __future__ import annotations

import contextlib
import itertools
import os
from pathlib import Path


def read_text(path: Path) -> str:
    """A UTF-8 text file, normalized to `\\n` line ends."""
    return path.read_text("utf-8").replace("\r\n", "\n").replace("\r", "\n")


_serial = itertools.count()  # with the pid, a temporary name no other writer uses


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write to a temporary file beside `path`, fsync it, rename it over `path`, fsync the dir.

    A reader sees the old bytes or the new, never a part. With `durable=False` the fsyncs are
    left out: the file survives a crash of this process but not necessarily of the machine
    (for derived files that are cheap to make again and costly to sync by the thousand).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{next(_serial)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o666)  # the user's umask decides, as for any new file
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if not durable:
        return
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
