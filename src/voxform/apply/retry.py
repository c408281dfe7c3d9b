"""Retrying what the service may do later: exponential backoff with full jitter."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from voxform.errors import RetryableError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the service's retry-after."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1` (0-based `attempt` just failed)."""
        backoff: float = min(self.cap, self.base * 2.0**attempt) * rng.random()
        return max(backoff, retry_after or 0.0)


class Retrier:
    """Calls a function until it stops raising RetryableError, the attempts run out or the
    run stops; `on_retry(error, delay)` hears of each wait."""

    def __init__(self, policy: RetryPolicy, stop: threading.Event, seed: int | None = None):
        self.policy = policy
        self.stop = stop
        self._rng = random.Random(seed)
        self._guard = threading.Lock()  # one generator shared by the worker threads

    def call(self, call: Callable[[], T], on_retry: Callable[[RetryableError, float], None]) -> T:
        """The result of `call`; its last RetryableError once giving up."""
        for attempt in range(self.policy.attempts):
            try:
                return call()
            except RetryableError as exc:
                if attempt == self.policy.attempts - 1 or self.stop.is_set():
                    raise
                with self._guard:
                    delay = self.policy.delay(attempt, exc.retry_after, self._rng)
                on_retry(exc, delay)
                self.stop.wait(delay)
        raise AssertionError("unreachable")
