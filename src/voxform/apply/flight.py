"""One item on its way through apply, and what the pipeline learns about job latency."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

from voxform.ice.wire import AudioRequest
from voxform.plan.plan import Change
from voxform.providers.protocol import JobResult
from voxform.state.lockfile import LockEntry

Stage = Literal["queued", "submitting", "running", "checking", "lookup", "listing", "done"]


def new_token() -> str:
    """A fresh idempotency token: 20 hex digits, carried in the job's UserData."""
    return secrets.token_hex(10)


@dataclass(eq=False)
class Flight:
    """An item from its intent to submit until its result is recorded."""

    change: Change
    target: str
    token: str = field(default_factory=new_token)
    stage: Stage = "queued"
    job_id: str | None = None
    due: float = 0.0  # monotonic time of the next step
    intent_at: float = 0.0  # wall-clock time the intent was recorded (for lookups)
    submitted_at: float = 0.0  # monotonic
    previous: LockEntry | None = None  # the item's entry before this run touched it
    maybe_sent: bool = False  # a submission with this token may have reached the service
    looks: int = 0  # GetSmartHandleJob calls spent on the job
    probe: bool = False  # its first look was early on purpose (see Latency)
    attempt: int = 0  # consecutive retryable failures of the current step
    first_failure: float | None = None  # monotonic, of the current run of failures
    _base: dict[str, object] | None = field(default=None, repr=False)  # see entry

    @property
    def id(self) -> str:
        return self.change.id

    @property
    def request(self) -> AudioRequest:
        """What the item sends (a flight is made only of changes that render)."""
        assert self.change.rendered is not None
        return self.change.rendered.request

    def succeeded(self) -> None:
        """The current step got an answer: its run of failures is over."""
        self.attempt, self.first_failure = 0, None

    def entry(self, result: JobResult | None = None) -> LockEntry:
        """The lockfile entry for this item now: an intent, a pending job, or its result."""
        change = self.change
        base = self._base
        if base is None:  # the same for each entry of the flight, the inputs dict shared
            base = self._base = {
                "fingerprint": change.fingerprint or "",
                "characters": change.characters,
                "inputs": dict(change.inputs or {}),
                "chunk": change.rendered.item.chunk if change.rendered else None,
            }
        if result is None:
            return LockEntry(
                state="pending",
                job_id=self.job_id,
                token=None if self.job_id else self.token,
                **base,  # type: ignore[arg-type]
            )
        return LockEntry(
            state=result.state,
            job_id=result.job_id or self.job_id,  # a resumed job's id came in at admission
            media_id=result.media_id,
            url=result.url,
            duration=result.duration,
            subtitles=result.subtitles,
            outputs=result.outputs,
            audio_digest=change.audio_digest if result.state == "finished" else None,
            error_code=result.error_code,
            error_message=result.error_message,
            **base,  # type: ignore[arg-type]
        )


@dataclass
class Latency:
    """When to take the first look at a job, learnt from what the looks find.

    A job seen still running after `e` seconds proves the latency is above `e`: the estimate
    jumps past it. Jobs found done say nothing about how much sooner they were done, so the
    estimate then probes down, by 2% per second: by the clock, not per job, or a fast run
    would race below the latency before the first early look (a latency later) could say so.
    An early look costs a read call, a late one only waits a little. Until a look first finds
    a job running, every job was found done: the estimate probes down fast (by `fast`, from
    the first submission), since a first look held at the starting estimate caps an apply at
    its parallelism over that estimate (200 jobs looked at after 1 s: 200 items/s, whatever
    the service allows) and the one round of early looks that ends it costs little.

    One job in `every` is a probe, looked at first after `probe_at` of the estimate: found
    done, it proves the latency is at most that, and the estimate comes down to just past it
    at once. Without probes one slow job (the service's first, say) held every first look at
    its latency for a minute at 2% a second: 10,000 jobs of 0.3 s were looked at after 1 s,
    and 200 in flight made 200 items/s of the 500 the service allowed. A probe found running
    costs one read more, so probes grow rarer (`rare`) once one is found running, and
    frequent again when one pays.
    """

    estimate: float = 1.0  # seconds, as of `since`
    floor: float = 0.05
    ceiling: float = 600.0
    decay: float = 0.98  # per second since the estimate was last set, once `learnt`
    fast: float = 0.8  # per second since the first submission, until then
    learnt: bool = False  # a first look has found its job running
    since: float | None = None  # monotonic time the estimate was set (the first submission)
    probe_at: float = 0.5
    often: int = 16  # one job in this many is a probe while probes pay
    rare: int = 64  # ... and one in this many after a probe found its job running
    every: int = 16
    _count: int = 0

    def first_look(self, now: float) -> float:
        """Seconds from a submission at `now` to its first look."""
        if self.since is None:
            self.since = now
        rate = self.decay if self.learnt else self.fast
        factor: float = rate ** max(0.0, now - self.since)
        return max(self.floor, self.estimate * factor)

    def plan_look(self, now: float) -> tuple[float, bool]:
        """Seconds from a submission at `now` to its first look, and whether it is a probe."""
        wait = self.first_look(now)
        self._count += 1
        if self._count % self.every == 0 and wait * self.probe_at >= self.floor:
            return wait * self.probe_at, True
        return wait, False

    def next_look(self, looks: int) -> float:
        """Seconds until the next look after `looks` early ones."""
        return min(30.0, max(0.2, self.estimate * 0.25) * 1.5 ** max(0, looks - 1))

    def after_probe(self, submitted: float, now: float) -> float:
        """When to look again at a probe's job found running (monotonic): when its first
        look would have been had it not been a probe, so that a probe costs one read more,
        not the two or three of looks backing off from half the latency."""
        when = submitted + self.first_look(now)
        return when if when > now else now + self.next_look(1)

    def learn(self, elapsed: float, now: float, *, probe: bool = False) -> None:
        """A first look `elapsed` seconds after its submission found the job still running."""
        if probe:
            self.every = self.rare
        current = self.first_look(now)
        self.estimate = min(self.ceiling, max(current, elapsed * 1.1))
        self.learnt, self.since = True, now

    def done(self, elapsed: float, now: float) -> None:
        """A probe found its job done `elapsed` seconds after its submission."""
        self.every = self.often
        lowered = max(self.floor, elapsed * 1.1)
        if lowered < self.first_look(now):
            self.estimate, self.since = lowered, now
