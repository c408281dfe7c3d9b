"""One apply at a time per project: a lease file in .voxform/ naming its holder.

The lease is created with O_EXCL and removed by name, never through a link: something else
found there (a symlink, dangling or not; a FIFO) is no lease voxform wrote, so no apply
starts, and the error says what it is and that `voxform unlock` removes it.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import secrets
import socket
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from voxform.errors import VoxformError
from voxform.files import check_directory, create_new, pid_alive, remove_entry
from voxform.reading import FileTooLargeError, read_regular
from voxform.state.jsonfile import JsonProblem, load_json

LEASE = Path(".voxform") / "apply.lease"
UNREADABLE = "unreadable"  # the id of a lease file that holds no JSON (a crash mid-write)
ABANDONED_AFTER = 10.0  # seconds an unreadable lease file may be young and still be held
# What is found at the lease's name, as messages name it: only the first is a lease.
Found = Literal["a lease file", "a symlink", "a directory", "a special file"]


class LeaseHeldError(VoxformError):
    """Another apply holds the project."""


def _holder() -> dict[str, object]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        "holder": user,
        "host": socket.gethostname(),
        "id": secrets.token_hex(6),
        "pid": os.getpid(),
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@contextlib.contextmanager
def lease(root: Path, *, timeout: float = 0.0) -> Iterator[None]:
    """Hold the project's apply lease; wait up to `timeout` seconds for another holder."""
    path = root / LEASE
    deadline = time.monotonic() + timeout
    while True:
        try:
            # UnsafeFileError when `.voxform` is a symlink: it would move the lease and the
            # journal out of the project (and let two checkouts share one)
            create_new(path, json.dumps(_holder(), sort_keys=True).encode(), root=root)
            break
        except FileExistsError:
            found = _found(path)
            if found is None:
                continue  # released meanwhile
            if found != "a lease file":
                raise LeaseHeldError(_not_a_lease(found)) from None
            held = _read(path)
            if _stale(held) or _abandoned(path, held):
                remove_entry(path, root=root)
                continue
            if time.monotonic() >= deadline:
                raise LeaseHeldError(_describe(held)) from None
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    try:
        yield
    finally:
        remove_entry(path, root=root)


def _found(path: Path) -> Found | None:
    """What is at `path`, as a message names it, without following a link; None: nothing."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return "a lease file"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "a directory" if stat.S_ISDIR(mode) else "a special file"


def _not_a_lease(found: Found) -> str:
    clear = (
        "remove that directory"
        if found == "a directory"
        else f"if no apply is running, `voxform unlock {UNREADABLE}` removes it"
        + (" (the link, not what it names)" if found == "a symlink" else "")
    )
    return f"{LEASE} is {found}, not a lease voxform wrote, so no apply can start; {clear}"


def _read(path: Path) -> dict[str, object]:
    """The lease's fields; {} when it cannot be read (treated as an unreadable lease)."""
    try:
        value = load_json(read_regular(path, 1 << 16, "lease", follow=False))
    except (OSError, JsonProblem, FileTooLargeError):
        return {}
    return value if isinstance(value, dict) else {}


def _stale(held: dict[str, object]) -> bool:
    """A lease is stale only when its holder provably died: same host, no such process."""
    pid = held.get("pid")
    return (
        held.get("host") == socket.gethostname()
        and type(pid) is int
        and 0 < pid < 1 << 31  # what a pid can be: os.kill refuses (OverflowError) the rest
        and pid != os.getpid()
        and not pid_alive(pid)
    )


def _abandoned(path: Path, held: dict[str, object]) -> bool:
    """An unreadable lease that has stayed so for a while was left by a crash between
    creating the file and writing it (a matter of microseconds for a live holder)."""
    try:
        age = time.time() - os.lstat(path).st_mtime
    except OSError:
        return False
    return not held and age > ABANDONED_AFTER


def _describe(held: dict[str, object]) -> str:
    lease_id = held.get("id", UNREADABLE)
    return (
        f"another apply holds this project ({holder_of(held) or 'holder unknown'}); wait for "
        "it, pass --lock-timeout SECONDS, or, if that apply is gone, run "
        f"`voxform unlock {lease_id}`"
    )


def holder_of(held: dict[str, object]) -> str:
    """The holder, host, pid and start time a lease names, as a message shows them."""
    return ", ".join(f"{k} {held[k]}" for k in ("holder", "host", "pid", "started") if k in held)


@dataclass(frozen=True)
class Released:
    """What `release` removed: the holder the lease named ({} if none), and what it was."""

    held: dict[str, object]
    found: Found


def release(root: Path, lease_id: str) -> Released:
    """Remove the project's lease if its id is `lease_id` (as `voxform unlock` does); a
    symlink or special file there has the id `unreadable` and goes itself, never what it
    names. VoxformError when there is no lease or the id is another one."""
    check_directory(root, str(LEASE.parent))  # `.voxform` as a symlink: one clear error
    path = root / LEASE
    found = _found(path)
    if found is None:
        raise VoxformError(f"no apply holds this project (no {LEASE})")
    held = _read(path) if found == "a lease file" else {}
    current = str(held.get("id", UNREADABLE))
    if current != lease_id:
        raise VoxformError(
            f"the lease on this project has the id {current!r}, not {lease_id!r}; "
            "nothing was released (run `voxform unlock` with the id an apply's error names)"
        )
    remove_entry(path, root=root)
    return Released(held, found)
