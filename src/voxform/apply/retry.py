"""Retrying what the service may do later: exponential backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass

# As long as apply keeps trying an item through transient errors (the pipeline's retry
# deadline): a service that asks for a longer wait (`x-acs-retry-after: 1e300`) gets this.
LONGEST_WAIT = 900.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the service's retry-after up to
    `longest` seconds."""

    base: float = 0.5
    # Short: the operation's token bucket (pacing.py), not each item's backoff, keeps the
    # calls under the service's rate; with 30% of calls failing at random, a 30 s cap let an
    # item that met six failures in a row wait up to half a minute, far past the rest.
    cap: float = 4.0
    longest: float = LONGEST_WAIT

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt `attempt + 1` (0-based `attempt` just failed)."""
        backoff: float = min(self.cap, self.base * 2.0 ** min(attempt, 32)) * rng.random()
        asked = retry_after if retry_after is not None and retry_after > 0 else 0.0  # not NaN
        return max(backoff, min(asked, self.longest))
