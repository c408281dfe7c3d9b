"""Work whose result no one waits for, done in forked processes beside the command.

The caches of a plan (state/) are written after the render, and nothing the command prints
depends on them: at 100,000 items writing them costs more than a second, which forked
processes spend while this one plans and prints (the render cache's in one, the others' in
another: on two cores, the three are done about when the plan is). `wait` is called when
the command is done and before the caches are read again in this process, so no command
sees them half-made (they are written atomically besides). Where a fork is not safe
(another thread could hold a lock at it) or not available, the work is done here and now.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable

_pending: list[int] = []  # the forked processes not yet waited for
# Below this many items, forking costs more than it saves (a render's workers, the caches'
# writers): here, where a command that forks none imports it without the render's modules.
MIN_ITEMS = 2_000


def aside(*work: Callable[[], None], apart: bool = False) -> None:
    """Call each of `work`, in order, in a forked process (or here, when not safe); with
    `apart`, each in a process of its own, all at once (none waits for another)."""
    wait()
    if not hasattr(os, "fork") or threading.active_count() > 1:
        for task in work:
            task()
        return
    for group in [[task] for task in work] if apart else [list(work)]:
        _fork(group)


def _fork(work: list[Callable[[], None]]) -> None:
    for stream in (sys.stdout, sys.stderr):  # a child must not write out a copy of them
        stream.flush()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pid = os.fork()
    except OSError:  # no memory or processes left for it: here, then
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        for task in work:
            task()
        return
    if pid == 0:  # the child: Ctrl-C is the parent's to tell; its writes are atomic anyway
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for task in work:
                task()
        except BaseException:
            code = 1
        finally:
            os._exit(code)  # no exit handlers, no buffers of the parent's written out
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    _pending.append(pid)


def wait() -> None:
    """Wait until everything set aside is done."""
    while _pending:
        pid = _pending.pop()
        with contextlib.suppress(ChildProcessError):  # reaped already (a SIGCHLD handler)
            os.waitpid(pid, 0)
