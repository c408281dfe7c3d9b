"""Retrying what the service may do later: exponential backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the service's retry-after."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1` (0-based `attempt` just failed)."""
        backoff: float = min(self.cap, self.base * 2.0 ** min(attempt, 32)) * rng.random()
        return max(backoff, retry_after or 0.0)
