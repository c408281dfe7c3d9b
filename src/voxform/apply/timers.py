"""The flights due at a time (a check of a running job, a submission retried later), kept
in one heap per target and operation.

The pipeline starts the earliest due flight whose operation has a token. With one heap for
all, every due flight of an operation out of tokens was popped and pushed back at each wake:
with thousands of checks waiting on a low limit, each wake cost them all, and the apply's
CPU grew with its length. Here an operation out of tokens is passed over whole.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from voxform.apply.flight import Flight
from voxform.providers.protocol import Operation

Timer = tuple[float, int, Flight]
Key = tuple[str, Operation]


def role_of(flight: Flight) -> Operation:
    """The call a due flight makes: a check while its job runs, else its submission."""
    return "check" if flight.stage == "running" else "submit"


def _current(timer: Timer) -> bool:
    """Whether a timer still stands: its flight not rescheduled since, nor done."""
    flight = timer[2]
    return flight.due == timer[0] and flight.stage in ("running", "queued")


class Timers:
    """Heaps of (due, order, flight) by the flight's target and operation."""

    def __init__(self) -> None:
        self.heaps: dict[Key, list[Timer]] = {}
        self._order = itertools.count()

    def __bool__(self) -> bool:
        return any(self.heaps.values())

    def at(self, when: float, flight: Flight) -> None:
        """`flight` due at `when` (an earlier timer of it no longer stands)."""
        flight.due = when
        heap = self.heaps.setdefault((flight.target, role_of(flight)), [])
        heapq.heappush(heap, (when, next(self._order), flight))

    def start_due(
        self,
        now: float,
        take: Callable[[Key], float],
        start: Callable[[Flight, Operation], None],
        room: Callable[[], bool],
    ) -> float:
        """Start each flight due by `now` whose operation has a token (`take` gives the
        wait for one, 0 when it took it), earliest first, while there is `room`; return
        when to look again: when the next flight is due, or an operation out of tokens has
        one again (inf: never)."""
        waits: dict[Key, float] = {}
        while room():
            best: tuple[Timer, Key] | None = None
            for key, heap in self.heaps.items():
                while heap and not _current(heap[0]):
                    heapq.heappop(heap)
                if heap and key not in waits and (best is None or heap[0][:2] < best[0][:2]):
                    best = heap[0], key
            if best is None or best[0][0] > now:
                break
            timer, key = best
            if role_of(timer[2]) != key[1]:  # its stage changed since it was set
                heapq.heappop(self.heaps[key])
                self.at(timer[0], timer[2])
                continue
            wait = take(key)
            if wait:
                waits[key] = now + wait
                continue
            heapq.heappop(self.heaps[key])
            start(timer[2], key[1])
        wake = min(waits.values(), default=float("inf"))
        for key, heap in self.heaps.items():
            if heap and key not in waits:
                wake = min(wake, heap[0][0])
        return wake
