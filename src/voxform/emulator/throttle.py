"""The emulator's request rate limit: one token bucket over all API calls.

ICE answers `Throttling.User` with an `x-acs-retry-after` hint when a caller goes too fast;
the bucket says whether a call may pass and, if not, how long to wait, and `Throttled` is
the error answer that carries that wait to the HTTP layer.
"""

from __future__ import annotations

import math
import threading
import time

from voxform.emulator.submission import ApiError


class TokenBucket:
    """A token bucket: `rate` tokens per second, bursts of up to `rate` (at least 1)."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate!r}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> int | None:
        """Take a token; when none is left, the milliseconds until one will be."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - self._tokens) / self.rate * 1000))


class Throttled(ApiError):
    """Throttling.User, with the milliseconds to wait for `x-acs-retry-after`."""

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(400, "Throttling.User", "Request was denied due to user flow control.")
        self.retry_after_ms = retry_after_ms
