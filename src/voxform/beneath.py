"""A folder below a trusted one opened in one system call, never through a symlink.

files.py reaches a folder by opening each directory on the way with O_NOFOLLOW: two calls a
level (open, close), twelve for a subtitle folder five levels down, made twice for each item
an apply finishes (the check before it pays for a job, and the write). Linux 5.6 has one call
for the whole walk, openat2 with RESOLVE_BENEATH (no `..` out, no absolute path) and
RESOLVE_NO_SYMLINKS (no symlink anywhere on the way, the last part included), which refuses
exactly what the walk refuses. Python has no wrapper for it, so it is called through ctypes.

`open_beneath` is only a fast path: None whenever it cannot say yes (another system, a kernel
or sandbox without openat2, a missing folder, a symlink or a file on the way), and the caller
then walks the path itself, which makes missing folders and words its refusals.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
import threading
from ctypes import c_char_p, c_int, c_long, c_size_t, c_void_p

_SYS_OPENAT2 = {"x86_64": 437, "aarch64": 437}  # the generic syscall number, where it is
_RESOLVE = 0x04 | 0x08  # RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH
_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_UNAVAILABLE = {1, 38}  # EPERM (a seccomp filter), ENOSYS: not on this system, never again
MISSING = -1  # find_beneath: a part of the way is not there


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


class _Openat2:
    """The call, made ready on first use (ctypes is not loaded by commands that never write)."""

    def __init__(self) -> None:
        machine = os.uname().machine if sys.platform == "linux" else ""
        self._number = _SYS_OPENAT2.get(machine, 0)
        self.available = bool(self._number)
        self._call: object = None
        # by flags and mode: the structure (kept alive), its address and its size
        self._hows: dict[tuple[int, int], tuple[_OpenHow, int, int]] = {}
        self._guard = threading.Lock()

    def open(
        self, folder: int, relative: str, flags: int = _FLAGS, mode: int = 0, missing: bool = False
    ) -> int | None:
        if not self.available:
            return None
        how = self._hows.get((flags, mode))
        if how is None:
            with self._guard:
                if self._call is None:
                    call = ctypes.CDLL(None, use_errno=True).syscall
                    call.restype = ctypes.c_long
                    # The types given once: a call converts plain ints and bytes itself
                    # (wrapping each argument in a ctypes object cost more than the call).
                    call.argtypes = (c_long, c_int, c_char_p, c_void_p, c_size_t)
                    self._call = call
                made = _OpenHow(flags, mode, _RESOLVE)
                how = self._hows.setdefault(
                    (flags, mode), (made, ctypes.addressof(made), ctypes.sizeof(made))
                )
        fd: int = self._call(  # type: ignore[operator]
            self._number, folder, os.fsencode(relative), how[1], how[2]
        )
        if fd < 0:
            failed = ctypes.get_errno()
            if failed in _UNAVAILABLE:
                self.available = False
            return MISSING if failed == errno.ENOENT and missing else None
        return fd


_OPENAT2 = _Openat2()


def open_beneath(folder: int, relative: str) -> int | None:
    """A descriptor of the directory `relative` (a relative POSIX path without `..`) below
    the open directory `folder`, reached without following any symlink; None when this
    cannot be done here in one call, for whatever reason (see the module's docstring)."""
    if not relative or relative.startswith("/") or "\x00" in relative:
        return None
    return _OPENAT2.open(folder, relative)


def find_beneath(folder: int, relative: str) -> int | None:
    """`open_beneath`, or MISSING when openat2 found a part of the way missing (ENOENT):
    every part before it was a directory and none a symlink (that would have been ELOOP),
    so the folder is not there, and the walk would only find the same."""
    if not relative or relative.startswith("/") or "\x00" in relative:
        return None
    return _OPENAT2.open(folder, relative, missing=True)


def create_beneath(folder: int, relative: str, mode: int = 0o666) -> int | None:
    """A descriptor of the new file `relative` below the open directory `folder`, made for
    writing (O_EXCL) with no symlink on the way; None when this cannot be done here in one
    call, for whatever reason (a missing folder, a file there already, a symlink, no
    openat2): the caller then makes it its own way."""
    if not relative or relative.startswith("/") or "\x00" in relative:
        return None
    return _OPENAT2.open(folder, relative, _CREATE, mode)
