"""A scheduler for the emulator's jobs: short callbacks run at given monotonic times.

Jobs change state on a clock (Executing after half the latency, ended after all of it), and
one thread with a heap does that for every job instead of a timer thread per job.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

# A callback may run this much after its time, so that one wake-up runs the callbacks due
# close together (at 500 jobs a second, a wake-up per callback cost more than the callbacks;
# at 2 ms, two events a job 1 ms apart still woke the thread for nearly every one).
SLACK = 0.005


class Timeline:
    """Runs short callbacks at given monotonic times, in time order, on one thread."""

    def __init__(self) -> None:
        # The counter breaks ties between equal times, so callbacks are never compared.
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="voxform-emulator-timeline")
        self._thread.daemon = True
        self._thread.start()

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run `action` once `time.monotonic()` has reached `when`."""
        with self._wake:
            soonest = self._events[0][0] if self._events else None
            heapq.heappush(self._events, (when, next(self._order), action))
            # The thread wakes by itself for an earlier event: waking it for every job (two
            # events each) cost the emulator a third of its CPU in thread switches.
            if soonest is None or when < soonest:
                self._wake.notify()

    @property
    def running(self) -> bool:
        """Whether the thread still runs (close waits for it a bounded time)."""
        return self._thread.is_alive()

    def close(self) -> None:
        """Stop the thread (waiting a bounded time); callbacks still pending never run."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (
                    not self._events or self._events[0][0] > time.monotonic()
                ):
                    timeout = (
                        self._events[0][0] - time.monotonic() + SLACK if self._events else None
                    )
                    self._wake.wait(timeout)
                if self._closed:
                    return
                _, _, action = heapq.heappop(self._events)
            # Outside the lock, so an action may schedule the next one.
            action()
