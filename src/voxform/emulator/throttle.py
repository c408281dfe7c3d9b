"""The emulator's request rate limits: one token bucket per API operation.

Alibaba Cloud limits each operation separately ("Request Rate: N/1 s" per operation and
account), so a client fast at polling must not slow its submissions and vice versa. ICE
answers `Throttling.User` with an `x-acs-retry-after` hint when a caller goes too fast; a
bucket says whether a call may pass and, if not, how long to wait, and `Throttled` is the
error answer that carries that wait to the HTTP layer.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping

from voxform.emulator.submission import ApiError


class TokenBucket:
    """A token bucket: `rate` tokens per second, bursts of up to `rate` (at least 1)."""

    def __init__(self, rate: float) -> None:
        if not rate > 0:
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


class RateLimits:
    """One bucket per limited operation; an operation without a limit always passes."""

    def __init__(self, limits: Mapping[str, float]) -> None:
        self.limits = dict(limits)
        self._buckets = {action: TokenBucket(rate) for action, rate in limits.items()}

    def take(self, action: str) -> int | None:
        """Let one `action` call pass (None) or say how many milliseconds it must wait."""
        bucket = self._buckets.get(action)
        return None if bucket is None else bucket.take()


def operation_limits(
    actions: tuple[str, ...], default: float | None, per_action: Mapping[str, float]
) -> dict[str, float]:
    """The calls per second of each operation: its own limit, else `default` (None: none)."""
    unknown = sorted(set(per_action) - set(actions))
    if unknown:
        raise ValueError(f"no operation named {', '.join(unknown)}; known: {', '.join(actions)}")
    limits = dict.fromkeys(actions, default) if default else {}
    limits.update(per_action)
    for action, rate in limits.items():
        if not rate > 0:
            raise ValueError(f"the rate limit of {action} must be positive, not {rate!r}")
    return limits


class Throttled(ApiError):
    """A throttling answer (Throttling.User unless told), with `x-acs-retry-after` in ms."""

    def __init__(
        self,
        retry_after_ms: int,
        status: int = 400,
        code: str = "Throttling.User",
        message: str = "Request was denied due to user flow control.",
    ) -> None:
        super().__init__(status, code, message)
        self.retry_after_ms = retry_after_ms
