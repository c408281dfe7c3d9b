"""What the apply pipeline does with each answer to its calls.

A job id: the job is looked at first when it is likely done. A result: the item is finished
and journaled. A refusal or a timeout: the step is tried again after a backoff, until the
item has met transient errors for too long. A submission whose fate is unknown: its token is
sought in the job list (lookup.py), whose pages are answers too. A fatal error: the run
stops. The scheduler that decides when each call is made is pipeline.py; both run on the
scheduler thread alone, over the state `Pipeline.__init__` sets up.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from voxform.apply.calls import Caller, Done
from voxform.apply.flight import Flight, Latency
from voxform.apply.lookup import Lookups
from voxform.apply.outcome import Outcome, Progress
from voxform.apply.pacing import AdaptiveRate
from voxform.apply.retry import RetryPolicy
from voxform.apply.timers import Timers
from voxform.errors import FatalError, ItemError, RetryableError, ThrottledError, UnknownOutcome
from voxform.providers.protocol import JobPage, JobResult, Operation
from voxform.state.journal import Journal
from voxform.state.lockfile import LockEntry, LockState


class Answers:
    """The pipeline's answer handling (a base of `Pipeline`, which sets these attributes)."""

    journal: Journal
    lock: LockState
    progress: Progress
    retry: RetryPolicy
    retry_deadline: float
    clock: Callable[[], float]
    submit: bool  # False: a lost submission found missing is left pending (refresh)
    rates: dict[str, dict[Operation, AdaptiveRate]]
    latency: dict[str, Latency]
    outcome: Outcome
    calls: Caller
    _rng: random.Random
    _stop: threading.Event
    _timers: Timers
    _lookups: dict[str, Lookups]
    _in_flight: int

    def _handle(self, done: Done) -> None:
        """One call's answer: the rate learns from it, then the item takes its next step."""
        self.calls.taken()
        now = self.clock()
        flight = done.flight
        rate = self.rates[done.target].get(done.operation)
        error = done.error
        if rate is not None:
            refused = isinstance(error, RetryableError) and not isinstance(error, UnknownOutcome)
            rate.answered(now, throttled=isinstance(error, ThrottledError), refused=refused)
        if flight is None:
            self._page(done, now)
            return
        if done.operation == "submit" and error is not None:
            flight.maybe_sent = isinstance(error, UnknownOutcome)  # a refusal created nothing
        if isinstance(error, FatalError):
            self._fatal(error)
            flight.stage = "queued" if done.operation == "submit" else "running"
            return
        if isinstance(error, ItemError):
            self._finish(
                flight,
                JobResult(
                    state="failed", error_code=error.code or "ItemError", error_message=str(error)
                ),
            )
            return
        if isinstance(error, UnknownOutcome) and done.operation == "submit":
            self.progress.retrying(flight.change, error, 0.0)
            self._lookups[flight.target].seek(flight)
            return
        if isinstance(error, RetryableError):
            self._retry(flight, done.operation, error, now)
            return
        if error is not None:  # a bug or an OS error: this item fails, the run goes on
            self._finish(
                flight,
                JobResult(
                    state="failed",
                    error_code=type(error).__name__,
                    error_message=f"{done.operation} failed: {error}",
                ),
            )
            return
        flight.succeeded()
        if done.operation == "submit":
            flight.job_id, flight.stage = str(done.value), "running"
            flight.submitted_at = now
            self._record(flight)
            wait, flight.probe = self.latency[flight.target].plan_look(now)
            self._at(now + wait, flight)
        elif done.value is None:  # still running
            if flight.looks == 1:  # later looks of a long job would drag every first look
                self.latency[flight.target].learn(
                    now - flight.submitted_at, now, probe=flight.probe
                )
            flight.stage = "running"
            latency = self.latency[flight.target]
            if flight.probe and flight.looks == 1:
                self._at(latency.after_probe(flight.submitted_at, now), flight)
            else:
                self._at(now + latency.next_look(flight.looks), flight)
        else:
            assert isinstance(done.value, JobResult)
            if flight.looks == 1 and flight.probe:
                self.latency[flight.target].done(now - flight.submitted_at, now)
            self._finish(flight, done.value)

    def _retry(self, flight: Flight, role: Operation, error: RetryableError, now: float) -> None:
        """Try the step again later, unless the item has met transient errors too long."""
        if flight.first_failure is None:
            flight.first_failure = now
        if now - flight.first_failure > self.retry_deadline:
            self._finish(
                flight,
                JobResult(
                    state="failed",
                    error_code=error.code or "Unavailable",
                    error_message=f"gave up after {self.retry_deadline:g} s of transient errors "
                    f"({flight.attempt + 1} attempts): {error}",
                ),
            )
            return
        delay = self.retry.delay(flight.attempt, error.retry_after, self._rng)
        flight.attempt += 1
        self.progress.retrying(flight.change, error, delay)
        flight.stage = "queued" if role == "submit" else "running"
        self._at(now + delay, flight)

    def _finish(self, flight: Flight, result: JobResult) -> None:
        flight.stage = "done"
        self._in_flight -= 1
        entry = self._record(flight, result)
        self.outcome.count(flight.change, entry, flight.previous)
        self.progress.item_done(flight.change, entry)

    def _record(self, flight: Flight, result: JobResult | None = None) -> LockEntry:
        """The flight's entry now (intent, pending job or result), in memory and journaled."""
        entry = self.lock.items[flight.id] = flight.entry(result)
        self.journal.record(flight.id, entry)
        return entry

    def _leave_pending(self, flight: Flight, sent: bool | None = None) -> None:
        """The intent stays for the next apply: fate unknown, or never sent (refresh)."""
        flight.stage = "done"
        self._in_flight -= 1
        (self.outcome.unresolved if sent is None else self.outcome.unsent).append(flight.id)

    def _fatal(self, error: FatalError) -> None:
        self.outcome.fatal = self.outcome.fatal or error
        self._stop.set()

    def _at(self, when: float, flight: Flight) -> None:
        self._timers.at(when, flight)

    def _page(self, done: Done, now: float) -> None:
        lookups = self._lookups[done.target]
        if isinstance(done.error, FatalError):
            self._fatal(done.error)
        if done.error is not None:
            hint = getattr(done.error, "retry_after", None)
            wait = self.retry.delay(lookups.failures, hint, self._rng)
            restart = not isinstance(done.error, RetryableError)  # refused: not that page again
            for flight in lookups.failed(now, wait, self.retry_deadline, restart=restart):
                self._leave_pending(flight)
            return
        assert isinstance(done.value, JobPage)
        result = lookups.page(done.value)
        for flight in result.found:  # it did arrive: follow that job
            flight.stage, flight.submitted_at = "running", now
            self._record(flight)
            self._at(now, flight)
        for flight in result.missing:  # it never arrived: send it, with the same token
            if not self.submit:
                self._leave_pending(flight, sent=False)
                continue
            flight.stage = "queued"
            self._at(now, flight)
        if result.next_page is not None:
            self.calls.list_jobs(done.target, result.next_page)
