"""The apply pipeline: one scheduler thread decides every call, a pool of threads makes them.

Submissions go out at each target's submit rate while fewer than `parallelism` jobs are in
flight; each job is looked at first when it is likely done (the latency is learnt as the run
goes), then with growing pauses. Each operation has its own adaptive rate (pacing.py); a
refused call gives its token back. Only a failed call is retried (backoff with jitter); an
item fails only after a long deadline; a lost submission is found by its token (lookup.py).
Every change is journaled by this thread alone, intents durable before their requests leave
(commit.py: the fsync itself runs on a thread of its own), so changes that land together
share one fsync. What each answer does (a job id, a result, an error, a page of the job
list) is answers.py's.
"""

from __future__ import annotations

import contextlib
import gc
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from voxform.apply.answers import Answers
from voxform.apply.calls import Caller, Workers
from voxform.apply.commit import GroupCommit
from voxform.apply.flight import Flight, Latency
from voxform.apply.lookup import Lookups
from voxform.apply.outcome import Outcome, Progress
from voxform.apply.pacing import AdaptiveRate
from voxform.apply.retry import RetryPolicy
from voxform.apply.timers import Timers
from voxform.errors import FatalError
from voxform.plan.plan import Plan
from voxform.providers.protocol import Operation, Provider
from voxform.state.journal import Journal
from voxform.state.lockfile import LockState

# The cyclic collector's first threshold while the pipeline runs: each call makes a few
# dozen objects that die young, and at the default (700) the collector ran about 540 times
# in a 10,000-item apply, 0.45 s of CPU (with this: 280 times and 0.28 s in the whole
# command, most of them outside the pipeline); cycles are still collected.
YOUNG_OBJECTS = 10_000
RETRY_DEADLINE = 900.0  # seconds an item may keep meeting transient errors before it fails
STOP_WAIT = 8.0  # seconds in-flight calls get to finish after a stop


class Pipeline(Answers):
    """Carries out a plan's synthesizing changes; `stop()` may be called from any thread."""

    def __init__(
        self,
        journal: Journal,
        lock: LockState,
        providers: Mapping[str, Provider],
        progress: Progress,
        *,
        limits: Mapping[str, Mapping[str, float | None]],
        parallelism: int = 200,
        root: Path | None = None,
        subtitle_dirs: Mapping[str, str] | None = None,
        intent_times: Mapping[str, float] | None = None,
        retry: RetryPolicy | None = None,
        retry_deadline: float = RETRY_DEADLINE,
        workers: int = 32,
        submit: bool = True,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.journal = journal
        self.lock = lock
        self.providers = providers
        self.progress = progress
        self.parallelism = max(1, parallelism)
        self.intent_times = dict(intent_times or {})
        self.retry = retry or RetryPolicy()
        self.retry_deadline = retry_deadline
        self.submit = submit  # False: collect what was submitted, send nothing (refresh)
        self.clock = clock
        self.rates = {
            target: {
                role: AdaptiveRate((limits.get(target) or {}).get(action))
                for role, action in provider.operations.items()
            }
            for target, provider in providers.items()
        }
        self.latency = {target: Latency() for target in providers}
        self.outcome = Outcome()
        self._rng = random.Random(seed)
        self._pool = Workers(workers)
        self.calls = Caller(providers, self._pool, root=root, subtitle_dirs=subtitle_dirs or {})
        self._stop = threading.Event()
        self._queued: dict[str, deque[Flight]] = {t: deque() for t in providers}
        self._timers = Timers()  # checks and delayed submissions
        self._lookups = {t: Lookups() for t in providers}
        self._in_flight = 0  # items whose submission has begun and whose result is not in
        self.commit = GroupCommit(journal, clock(), wake=self.calls.wake)

    def stop(self) -> None:
        """Stop submitting and looking; calls under way finish, then state is saved."""
        self._stop.set()
        self.calls.wake()

    def run(self, plan: Plan) -> Outcome:
        """Carry out every synthesizing or resuming change of `plan`."""
        started = self.clock()
        flights = [
            Flight(c, c.target, previous=self.lock.items.get(c.id))
            for c in plan.pending
            if c.action != "delete" and c.rendered is not None and c.target is not None
        ]
        for flight in flights:
            self._admit(flight)
        try:
            with _fewer_collections():
                self._loop()
        finally:
            self.commit.close()
            self._pool.close()
            self.calls.close()
        self._withdraw(flights)
        self.outcome.seconds = self.clock() - started
        self.outcome.interrupted = self._stop.is_set() and self.outcome.fatal is None
        return self.outcome

    # -- the scheduler ------------------------------------------------------------------

    def _withdraw(self, flights: list[Flight]) -> None:
        """Intents whose submissions surely never arrived leave the item as it was."""
        for flight in flights:
            unsent = flight.stage != "done" and flight.job_id is None and not flight.maybe_sent
            if unsent and self.lock.items.get(flight.id) != flight.previous:
                if flight.previous is None:
                    self.lock.items.pop(flight.id, None)
                else:
                    self.lock.items[flight.id] = flight.previous
                self.journal.record(flight.id, flight.previous)
        with contextlib.suppress(OSError):  # else the next apply looks the intents up
            self.journal.flush()

    def _admit(self, flight: Flight) -> None:
        previous = flight.previous
        if flight.change.action == "resume" and previous is not None:
            if previous.job_id:
                flight.job_id, flight.stage = previous.job_id, "running"
                flight.submitted_at = self.clock()  # as far as this run can tell
                self._in_flight += 1
                self._at(flight.submitted_at, flight)
                return
            if previous.token and self.providers[flight.target].durable_jobs:
                flight.token, flight.maybe_sent = previous.token, True
                flight.intent_at = self.intent_times.get(flight.id, 0.0)
                self._in_flight += 1
                self._lookups[flight.target].seek(flight)
                return
        self._queued[flight.target].append(flight)

    def _loop(self) -> None:
        stop_deadline: float | None = None
        while True:
            now = self.clock()
            if self._stop.is_set() and stop_deadline is None:
                stop_deadline = now + STOP_WAIT
            wake = self._dispatch(now) if stop_deadline is None else now + 0.2
            self._flush()
            if self.calls.outstanding == 0 and (stop_deadline is not None or self._idle()):
                self._flush(force=True)
                return
            if stop_deadline is not None and now >= stop_deadline:
                self._flush(force=True)
                return  # calls still under way are abandoned; their intents stay recorded
            self.progress.running(self._in_flight, self.outcome)
            wake = self.commit.wake(wake)
            timeout = max(0.0, min(wake, stop_deadline or wake) - self.clock())
            for done in self.calls.wait(min(timeout, 0.5)):
                self._handle(done)

    def _idle(self) -> bool:
        return self._in_flight == 0 and not any(self._queued.values()) and not self._timers

    def _dispatch(self, now: float) -> float:
        """Start every call that is due and allowed; return when to look again."""
        wake = now + 0.5
        if self.calls.full:
            return wake  # a call's end wakes the scheduler first

        def take(key: tuple[str, Operation]) -> float:
            rate = self.rates[key[0]].get(key[1])
            return rate.take(now) if rate else 0.0

        due = self._timers.start_due(now, take, self._start, lambda: not self.calls.full)
        if not self.calls.full:
            wake = min(wake, due)
        for target in self._lookups:
            wake = min(wake, self._look_up(target, now))
        for target, waiting in self._queued.items():
            rate = self.rates[target].get("submit")
            while waiting and self._in_flight < self.parallelism and not self.calls.full:
                wait = rate.take(now) if rate else 0.0
                if wait:
                    wake = min(wake, now + wait)
                    break
                self._in_flight += 1
                self._start(waiting.popleft(), "submit")
        return wake

    def _start(self, flight: Flight, role: Operation) -> None:
        provider = self.providers[flight.target]
        if role == "submit":
            flight.stage = "submitting"
            if provider.durable_jobs:
                flight.intent_at = time.time()
                self._record(flight)  # durable before the request leaves (see _flush)
                self.commit.hold(flight)
                return
        else:
            flight.stage = "checking"
            flight.looks += 1
        self.calls.start(flight, role)

    def _flush(self, *, force: bool = False) -> None:
        """Send what waited for a sync of the journal that has ended, and start the next
        when due (commit.py); with `force`, sync here and now."""
        now = self.clock()
        try:
            if force:
                ready = self.commit.flush(now)
            else:
                ready = self.commit.collect()
                if self.commit.due(now):
                    self.commit.begin(now)
        except OSError as exc:
            self.outcome.fatal = self.outcome.fatal or FatalError(
                f"cannot write the apply journal {self.journal.path}: {exc.strerror or exc}; "
                "nothing more is submitted"
            )
            self._stop.set()
            return
        if self._stop.is_set():
            for flight in ready:  # never sent: withdrawn at the end of the run
                flight.stage = "queued"
            ready = []
        for flight in ready:
            flight.maybe_sent = True
            self.calls.start(flight, "submit")
        self.commit.checkpoint(self.lock, now)

    # -- looking up submissions whose answers were lost ------------------------------------

    def _look_up(self, target: str, now: float) -> float:
        """Start a pass over the job list when a sought token is old enough; next wake-up."""
        lookups = self._lookups[target]
        if self.calls.full:
            return now + 0.5
        ready, wait = lookups.ready(time.time(), now)
        if not ready:
            return now + wait
        rate = self.rates[target].get("list")
        wait = rate.take(now) if rate else 0.0
        if wait:
            return now + wait
        self.calls.list_jobs(target, lookups.begin(ready))
        return now + 0.5


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """The collector's first threshold raised to YOUNG_OBJECTS, then set back."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], YOUNG_OBJECTS), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
