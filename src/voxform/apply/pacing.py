"""Pacing calls to a target so they stay under its configured rate."""

from __future__ import annotations

import threading
import time


class Pacer:
    """At most `rate` calls per second, spaced evenly across threads."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._guard = threading.Lock()

    def acquire(self, stop: threading.Event) -> None:
        """Wait for this call's slot (at once when `stop` is set)."""
        if not self.interval:
            return
        with self._guard:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        stop.wait(max(0.0, slot - time.monotonic()))
