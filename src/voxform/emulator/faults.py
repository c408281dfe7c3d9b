"""Injected faults, drawn from one seeded random generator so a run can be repeated.

Clients must survive a flaky service, so the emulator can fail, drop or delay requests and
fail jobs at configured shares. Request faults are decided before a request is read
further, so a dropped, failed or abandoned slow request never reaches the service: nothing
was submitted. A job fault is decided at submission and shows when the job ends.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

RequestFault = Literal["drop", "fail", "slow"]

# What --fail-requests answers, picked evenly: (HTTP status, code, message).
FAILURES = (
    (503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."),
    (400, "Throttling", "Request was denied due to request throttling."),
    (503, "Throttling", "Request was denied due to request throttling."),
)


@dataclass(frozen=True)
class FaultRates:
    """Shares (0..1) of requests and jobs that go wrong, and how slow a slow answer is."""

    fail_requests: float = 0.0
    drop_connections: float = 0.0
    slow_requests: float = 0.0
    slow_seconds: float = 2.0
    fail_jobs: float = 0.0

    def __post_init__(self) -> None:
        for name in ("fail_requests", "drop_connections", "slow_requests", "fail_jobs"):
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
        """Drop, fail or slow down this request (checked in that order), or None."""
        rates = self.rates
        with self._lock:
            if self._draw(rates.drop_connections):
                return "drop"
            if self._draw(rates.fail_requests):
                return "fail"
            if self._draw(rates.slow_requests):
                return "slow"
        return None

    def failure(self) -> tuple[int, str, str]:
        """The status, code and message of one injected request failure."""
        with self._lock:
            return self._random.choice(FAILURES)

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
