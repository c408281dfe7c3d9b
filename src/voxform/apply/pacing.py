"""Holding an operation's call rate under its limit, and finding the limit when unknown.

Alibaba Cloud throttles each API operation separately. Each operation of a target gets an
`AdaptiveRate`: a token bucket whose rate starts at the configured limit (or a modest guess)
and is adjusted once per window of calls (a second and 20 answers at least): down when over
a quarter of the window was throttled, to the share the service accepted (x(1 - share) /
0.75, between x0.5 and x0.95), up (+10%, never above a configured limit) when little was
and the bucket was the
bottleneck. Judging whole windows, not single answers, keeps a sprinkle of throttling (a
neighbour's burst, a flaky gateway) from collapsing the rate.

A call the service refused (a throttling or 5xx answer) did not use the service's quota, so
its token comes back: under a storm of failed calls the answered calls still go out at the
full rate, instead of the failures eating into it. At most half of a window's calls get
their token back, so a service that refuses everything sees at most twice the rate.
"""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN_START = 10.0  # calls per second when no limit is configured
UNKNOWN_CEILING = 500.0
FLOOR = 0.5
WINDOW = 1.0  # seconds per adjustment, at least
# A window needs this many answers (or MAX_WINDOW seconds) before its share is judged: with
# 20% of calls failing at random (a flaky gateway, not the limit), a 10-call window is over
# a quarter throttled a third of the time, and x0.8 each time against x1.1 walked the rate
# down to half the limit the service still allowed (simulated: 3.8 to 7.3 calls/s of 10);
# 20 answers and a decrease in proportion hold it at 8.6 to 9.7, and find an unknown limit
# of 3/s from 10/s in 6 s instead of 25.
MIN_ANSWERS, MAX_WINDOW = 20, 10.0
THROTTLED_SHARE = 0.25  # above this share of a window's calls throttled: slow down
LEAST, MOST = 0.5, 0.95  # bounds of one decrease's factor
INCREASE = 0.1
REFUND_SHARE = 0.5  # of a window's calls, at most this share get their token back


@dataclass
class AdaptiveRate:
    """A token bucket for one operation; `rate` is calls per second (None: no limit)."""

    limit: float | None  # configured; None: unknown, to be found
    unlimited: bool = False  # never limited (a local engine)

    def __post_init__(self) -> None:
        self.rate = max(FLOOR, self.limit) if self.limit else UNKNOWN_START
        self.ceiling = max(FLOOR, self.limit) if self.limit else UNKNOWN_CEILING
        self._tokens = 1.0
        self._updated: float | None = None
        self._window_start: float | None = None
        self._calls = 0
        self._throttled = 0
        self._refunds = 0
        self._starved = False  # the bucket, not the demand, held calls back this window

    def _refill(self, now: float) -> None:
        if self._updated is not None:
            burst = max(1.0, self.rate * 0.1)
            refilled = min(burst, self._tokens + (now - self._updated) * self.rate)
            self._tokens = max(self._tokens, refilled)  # a refund above the burst stays
        self._updated = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when granted, else the seconds until one will be."""
        if self.unlimited:
            return 0.0
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        self._starved = True
        return (1.0 - self._tokens) / self.rate

    def answered(self, now: float, *, throttled: bool, refused: bool = False) -> None:
        """Count one answer of this operation (`refused`: the service did not carry the call
        out); adjust the rate at the end of each window."""
        if self.unlimited:
            return
        if self._window_start is None:
            self._window_start = now
        self._calls += 1
        self._throttled += throttled
        if refused and self._refunds < self._calls * REFUND_SHARE:
            self._refunds += 1
            self._tokens += 1.0
        elapsed = now - self._window_start
        if elapsed < WINDOW or (self._calls < MIN_ANSWERS and elapsed < MAX_WINDOW):
            return
        share = self._throttled / self._calls
        if share > THROTTLED_SHARE:
            # Throttled far beyond the noise (an unknown limit): fast down to what passed;
            # just over it (a flaky gateway): a small step, soon made up.
            factor = min(MOST, max(LEAST, (1.0 - share) / (1.0 - THROTTLED_SHARE)))
            self.rate = max(FLOOR, self.rate * factor)
        elif self._starved and self.rate < self.ceiling:
            self.rate = min(self.ceiling, self.rate * (1 + INCREASE))
        self._window_start, self._calls, self._throttled, self._starved = now, 0, 0, False
        self._refunds = 0
