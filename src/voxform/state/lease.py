"""One apply at a time per project: a lease file in .voxform/ naming its holder."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from voxform.errors import VoxformError
from voxform.files import FileTooLargeError, check_directory, pid_alive, read_regular
from voxform.state.jsonfile import JsonProblem, load_json

LEASE = Path(".voxform") / "apply.lease"
UNREADABLE = "unreadable"  # the id of a lease file that holds no JSON (a crash mid-write)
ABANDONED_AFTER = 10.0  # seconds an unreadable lease file may be young and still be held


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
    path = _state_dir(root) / LEASE.name
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask decides
            break
        except FileExistsError:
            held = _read(path)
            if _stale(held) or _abandoned(path, held):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            if time.monotonic() >= deadline:
                raise LeaseHeldError(_describe(path, held)) from None
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(_holder(), handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _state_dir(root: Path) -> Path:
    """The project's `.voxform/`; VoxformError when it is a symlink, which would move the
    lease and the journal out of the project (and let two checkouts share one)."""
    check_directory(root, str(LEASE.parent))
    return root / LEASE.parent


def _read(path: Path) -> dict[str, object]:
    """The lease's fields; {} when it cannot be read (treated as an unreadable lease)."""
    try:
        value = load_json(read_regular(path, 1 << 16, "lease"))
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
        age = time.time() - path.stat().st_mtime
    except OSError:
        return False
    return not held and age > ABANDONED_AFTER


def _describe(path: Path, held: dict[str, object]) -> str:
    who = ", ".join(f"{k} {held[k]}" for k in ("holder", "host", "pid", "started") if k in held)
    lease_id = held.get("id", UNREADABLE)
    return (
        f"another apply holds this project ({who or 'holder unknown'}); wait for it, pass "
        f"--lock-timeout SECONDS, or, if that apply is gone, run `voxform unlock {lease_id}`"
    )


def release(root: Path, lease_id: str) -> dict[str, object]:
    """Remove the project's lease if its id is `lease_id` (as `voxform unlock` does); the
    holder it named. VoxformError when there is no lease or the id is another one."""
    path = _state_dir(root) / LEASE.name
    if not path.exists():
        raise VoxformError(f"no apply holds this project (no {LEASE})")
    held = _read(path)
    current = str(held.get("id", UNREADABLE))
    if current != lease_id:
        raise VoxformError(
            f"the lease on this project has the id {current!r}, not {lease_id!r}; "
            "nothing was released (run `voxform unlock` with the id an apply's error names)"
        )
    path.unlink(missing_ok=True)
    return held
