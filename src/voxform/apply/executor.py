"""The executor: carries out a plan with bounded concurrency, rate limits and retries."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol, TypeVar

from voxform.apply.subtitles import write_subtitles
from voxform.errors import FatalError, Interrupted, ItemError, RetryableError
from voxform.ice.wire import AudioRequest
from voxform.plan.plan import Change, Plan
from voxform.providers.protocol import JobResult, Provider
from voxform.state.lockfile import LockEntry, LockState, write_lockfile

T = TypeVar("T")


class Progress(Protocol):
    """Where the executor tells what happens; the CLI decides how it looks."""

    def item_started(self, change: Change) -> None: ...
    def item_done(self, change: Change, entry: LockEntry) -> None: ...
    def retrying(self, change: Change, error: RetryableError, delay: float) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring the service's retry-after."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff: float = min(self.cap, self.base * 2.0**attempt) * rng.random()
        return max(backoff, retry_after or 0.0)


@dataclass
class Outcome:
    """What an apply did."""

    finished: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    characters: int = 0
    audio_seconds: float = 0.0
    interrupted: bool = False
    fatal: FatalError | None = None
    seconds: float = 0.0


class RateLimiter:
    """At most `rate` calls per second, spaced evenly across threads."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._guard = threading.Lock()

    def acquire(self, stop: threading.Event) -> None:
        if not self.interval:
            return
        with self._guard:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        stop.wait(max(0.0, slot - time.monotonic()))


class Executor:
    """Walks a plan; the lockfile is rewritten atomically after every state change."""

    def __init__(
        self,
        lock_path: Path,
        lock: LockState,
        providers: Mapping[str, Provider],
        progress: Progress,
        *,
        parallelism: int = 10,
        rate_limits: Mapping[str, float | None] | None = None,
        retry: RetryPolicy | None = None,
        seed: int | None = None,
        root: Path | None = None,
        subtitle_dirs: Mapping[str, str] | None = None,
    ) -> None:
        self.lock_path = lock_path
        self.lock = lock
        self.providers = providers
        self.progress = progress
        self.parallelism = max(1, parallelism)
        self.limiters = {name: RateLimiter((rate_limits or {}).get(name)) for name in providers}
        self.retry = retry or RetryPolicy()
        self.stop = threading.Event()
        self._rng = random.Random(seed)
        self._guard = threading.Lock()
        self.outcome = Outcome()
        self.root = root
        self.subtitle_dirs = subtitle_dirs or {}

    def run(self, plan: Plan) -> Outcome:
        """Carry out every pending change; Ctrl-C stops submitting and saves what is known."""
        started = time.monotonic()
        todo = [c for c in plan.pending if c.action != "delete" and c.rendered is not None]
        pool = ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="voxform-apply")
        futures: set[Future[None]] = {pool.submit(self._carry_out, c) for c in todo}
        try:
            while futures:
                finished, futures = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()
        except KeyboardInterrupt:
            self._halt()
            self.outcome.interrupted = True
            wait(futures)  # a second Ctrl-C here leaves at once; the lockfile is still whole
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        self.outcome.seconds = time.monotonic() - started
        return self.outcome

    def _halt(self) -> None:
        """Stop submitting and stop waiting; submitted jobs stay pending for a resume."""
        self.stop.set()
        for provider in self.providers.values():
            cancel = getattr(provider, "cancel", None)
            if cancel is not None:
                cancel()

    def _carry_out(self, change: Change) -> None:
        if self.stop.is_set():
            return
        assert change.rendered is not None and change.target is not None
        provider = self.providers[change.target]
        request = change.rendered.request
        self.progress.item_started(change)
        try:
            if change.action == "resume":
                job_id = self.lock.items[change.id].job_id or ""
            else:
                job_id = self._with_retries(
                    change, lambda: self._submit(provider, change.target or "", request)
                )
                if getattr(provider, "durable_jobs", True):
                    self._record(change, JobResult(state="finished", job_id=job_id), pending=True)
            result = self._with_retries(change, lambda: provider.wait(job_id, request))
        except ItemError as exc:
            result = JobResult(
                state="failed", error_code=exc.code or "ItemError", error_message=str(exc)
            )
        except RetryableError as exc:
            result = JobResult(
                state="failed",
                error_code=exc.code or "Unavailable",
                error_message=f"gave up after {self.retry.attempts} attempts: {exc}",
            )
        except FatalError as exc:
            with self._guard:
                self.outcome.fatal = self.outcome.fatal or exc
            self._halt()
            return
        except Interrupted:
            return
        if result.state == "finished" and result.segments and self.root is not None:
            base = self.subtitle_dirs.get(change.target)
            if base is not None:
                subtitles = write_subtitles(
                    self.root, f"{base.rstrip('/')}/{request.object_key}", result.segments
                )
                result = replace(result, subtitles=subtitles)
        self._record(change, result)

    def _submit(self, provider: Provider, target: str, request: AudioRequest) -> str:
        self.limiters[target].acquire(self.stop)
        return provider.submit(request)

    def _with_retries(self, change: Change, call: Callable[[], T]) -> T:
        for attempt in range(self.retry.attempts):
            try:
                return call()
            except RetryableError as exc:
                if attempt == self.retry.attempts - 1 or self.stop.is_set():
                    raise
                with self._guard:
                    delay = self.retry.delay(attempt, exc.retry_after, self._rng)
                self.progress.retrying(change, exc, delay)
                self.stop.wait(delay)
        raise AssertionError("unreachable")

    def _record(self, change: Change, result: JobResult, *, pending: bool = False) -> None:
        previous = self.lock.items.get(change.id)
        entry = LockEntry(
            state="pending" if pending else result.state,
            fingerprint=change.fingerprint or "",
            characters=change.characters,
            inputs=dict(change.inputs or {}),
            chunk=change.rendered.item.chunk if change.rendered else None,
            job_id=result.job_id
            or (previous.job_id if previous and change.action == "resume" else None),
            media_id=result.media_id,
            url=result.url,
            duration=result.duration,
            subtitles=result.subtitles,
            error_code=result.error_code,
            error_message=result.error_message,
        )
        with self._guard:
            self.lock.items[change.id] = entry
            write_lockfile(self.lock_path, self.lock)
            if not pending:
                if entry.state == "finished":
                    self.outcome.finished.append(change.id)
                    self.outcome.characters += change.characters
                    self.outcome.audio_seconds += entry.duration or 0.0
                else:
                    self.outcome.failed.append(
                        (change.id, entry.error_code or "", entry.error_message or "")
                    )
        if not pending:
            self.progress.item_done(change, entry)
