"""Reading text and writing files so that a crash leaves either the old bytes or the new."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def read_text(path: Path) -> str:
    """A UTF-8 text file, normalized to `\\n` line ends."""
    return path.read_text("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync it, rename it over `path`, fsync the dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
