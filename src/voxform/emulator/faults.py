"""Injected faults, drawn from one seeded random generator so a run can be repeated.

Clients must survive a flaky service, so the emulator can fail, drop or delay requests,
lose answers and fail jobs at configured shares. Request faults are decided before a request
is read further. A dropped, failed or abandoned slow request never reaches the service:
nothing was submitted. A lost answer is the opposite case, a proxy losing the response: the
call is handled (a submission creates its job) and only then is the connection closed. A job
fault is decided at submission and shows when the job ends.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

RequestFault = Literal["drop", "fail", "slow", "drop_response"]

# The `x-acs-retry-after` (milliseconds) of an injected Throttling answer. Fixed, not drawn:
# a draw would shift the seeded sequence of every later fault.
INJECTED_RETRY_AFTER_MS = 200

# What --fail-requests answers, picked evenly: (HTTP status, code, message, retry hint in ms).
FAILURES: tuple[tuple[int, str, str, int | None], ...] = (
    (
        503,
        "ServiceUnavailable",
        "The request has failed due to a temporary failure of the server.",
        None,
    ),
    (400, "Throttling", "Request was denied due to request throttling.", INJECTED_RETRY_AFTER_MS),
    (503, "Throttling", "Request was denied due to request throttling.", INJECTED_RETRY_AFTER_MS),
)


@dataclass(frozen=True)
class FaultRates:
    """Shares (0..1) of requests and jobs that go wrong, and how slow a slow answer is."""

    fail_requests: float = 0.0
    drop_connections: float = 0.0
    slow_requests: float = 0.0
    slow_seconds: float = 2.0
    fail_jobs: float = 0.0
    drop_responses: float = 0.0
    corrupt_reads: float = 0.0  # OSS GetObject bodies served with one byte changed

    def __post_init__(self) -> None:
        for name in (
            "fail_requests",
            "drop_connections",
            "slow_requests",
            "fail_jobs",
            "drop_responses",
            "corrupt_reads",
        ):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be a share from 0 to 1, not {share!r}")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds must not be negative, not {self.slow_seconds!r}")


class Faults:
    """Draws faults in a reproducible order for a given seed (and request order)."""

    def __init__(self, rates: FaultRates, seed: int | None = None) -> None:
        self.rates = rates
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def for_request(self) -> RequestFault | None:
        """Drop, fail, slow down or lose the answer of this request (checked in that order)."""
        rates = self.rates
        with self._lock:
            if self._draw(rates.drop_connections):
                return "drop"
            if self._draw(rates.fail_requests):
                return "fail"
            if self._draw(rates.slow_requests):
                return "slow"
            # Drawn last, so the faults above keep their seeded sequences.
            if self._draw(rates.drop_responses):
                return "drop_response"
        return None

    def failure(self) -> tuple[int, str, str, int | None]:
        """Status, code, message and retry hint (ms, or None) of one injected failure."""
        with self._lock:
            return self._random.choice(FAILURES)

    def corrupted(self, data: bytes) -> bytes:
        """`data`, or (at the configured share) `data` with one byte changed."""
        with self._lock:
            if not data or not self._draw(self.rates.corrupt_reads):
                return data
            at = self._random.randrange(len(data))
        return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]

    def job_fails(self) -> bool:
        """Whether a job submitted now is to end Failed."""
        with self._lock:
            return self._draw(self.rates.fail_jobs)

    def _draw(self, share: float) -> bool:
        # A share of 0 or 1 takes no draw, so enabling one fault keeps the others' sequence.
        if share <= 0.0:
            return False
        if share >= 1.0:
            return True
        return self._random.random() < share
