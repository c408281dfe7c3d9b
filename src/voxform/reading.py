"""Reading files voxform did not make: only regular files, only up to a limit.

A FIFO, a device or a folder planted where voxform reads (a FIFO at voxform.lock would block
the read for ever, /dev/zero would fill memory) is refused without waiting on it, and a file
larger than voxform reads of its kind is refused before it is read whole.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from voxform.errors import VoxformError
from voxform.files import UnsafeFileError

_QUICK = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)  # a FIFO must not hang
_LINK_ERRNOS = {errno.ELOOP, errno.EMLINK}  # what O_NOFOLLOW gives for a link (Linux, BSD)


class FileTooLargeError(VoxformError):
    """A file is bigger than voxform reads of its kind."""


@contextlib.contextmanager
def open_regular(path: Path, *, follow: bool = True) -> Iterator[BinaryIO]:
    """`path` open for reading, if it is a regular file (symlinks followed unless `follow` is
    False: then a symlink is refused). A FIFO, device or directory planted where voxform reads
    (a FIFO at voxform.lock would block the read for ever, /dev/zero would fill memory) is
    UnsafeFileError, without waiting on it. FileNotFoundError when there is nothing."""
    flags = os.O_RDONLY | _QUICK | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno not in _LINK_ERRNOS or follow:
            raise
        raise UnsafeFileError(f"{path} is a symlink; voxform does not follow one here") from None
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


def read_regular(path: Path, limit: int, what: str = "file", *, follow: bool = True) -> bytes:
    """The bytes of the regular file at `path`, refusing (FileTooLargeError) one of more than
    `limit` bytes before reading it all; see `open_regular` for what else is refused."""
    with open_regular(path, follow=follow) as handle:
        # As much as the file holds (one byte more tells a file that grew), never `limit`
        # up front: a read asks for its whole buffer at once, and a limit of gigabytes would
        # take that much address space for a file of a few bytes.
        size = os.fstat(handle.fileno()).st_size
        data = handle.read(min(size, limit) + 1)
        if len(data) > size:  # it grew since: read on, to the limit
            data += handle.read(limit + 1 - len(data))
    if len(data) > limit:
        raise FileTooLargeError(
            f"{path} is more than {limit:,} bytes, more than voxform reads in a {what}"
        )
    return data


def read_text(path: Path, limit: int) -> str:
    """A UTF-8 text file of at most `limit` bytes, normalized to `\\n` line ends."""
    text = read_regular(path, limit, "text file").decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n")
