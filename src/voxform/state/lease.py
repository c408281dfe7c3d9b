"""One apply at a time per project: a lease file in .voxform/ naming its holder."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from voxform.errors import VoxformError

LEASE = Path(".voxform") / "apply.lease"


class LeaseHeldError(VoxformError):
    """Another apply holds the project."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder() -> dict[str, object]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        "holder": user,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@contextlib.contextmanager
def lease(root: Path, *, timeout: float = 0.0) -> Iterator[None]:
    """Hold the project's apply lease; wait up to `timeout` seconds for another holder."""
    path = root / LEASE
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileExistsError:
            held = _read(path)
            if _stale(held):
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


def _read(path: Path) -> dict[str, object]:
    try:
        value = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _stale(held: dict[str, object]) -> bool:
    """A lease is stale only when its holder provably died: same host, no such process."""
    pid = held.get("pid")
    return (
        held.get("host") == socket.gethostname()
        and isinstance(pid, int)
        and pid != os.getpid()
        and not _alive(pid)
    )


def _describe(path: Path, held: dict[str, object]) -> str:
    who = ", ".join(f"{k} {held[k]}" for k in ("holder", "host", "pid", "started") if k in held)
    return (
        f"another apply holds this project ({who or 'holder unknown'}); wait for it, pass "
        f"--lock-timeout SECONDS, or delete {path} if that apply is gone"
    )
