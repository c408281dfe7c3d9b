"""The executor: carries out a plan with bounded concurrency, rate limits and retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from voxform.apply.outcome import Outcome
from voxform.apply.pacing import Pacer
from voxform.apply.retry import Retrier, RetryPolicy
from voxform.apply.subtitles import write_subtitles
from voxform.errors import FatalError, Interrupted, ItemError, RetryableError
from voxform.ice.wire import AudioRequest
from voxform.plan.plan import Change, Plan
from voxform.providers.protocol import JobResult, Provider
from voxform.state.lockfile import LockEntry, LockState, write_lockfile


class Progress(Protocol):
    """Where the executor tells what happens; the CLI decides how it looks."""

    def item_started(self, change: Change) -> None: ...
    def item_done(self, change: Change, entry: LockEntry) -> None: ...
    def retrying(self, change: Change, error: RetryableError, delay: float) -> None: ...


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
        self.pacers = {name: Pacer((rate_limits or {}).get(name)) for name in providers}
        self.retry = retry or RetryPolicy()
        self.stop = threading.Event()
        self._retrier = Retrier(self.retry, self.stop, seed)
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
            provider.cancel()

    def _carry_out(self, change: Change) -> None:
        if self.stop.is_set():
            return
        assert change.rendered is not None and change.target is not None
        target = change.target
        provider = self.providers[target]
        request = change.rendered.request
        self.progress.item_started(change)

        def on_retry(error: RetryableError, delay: float) -> None:
            self.progress.retrying(change, error, delay)

        try:
            if change.action == "resume":
                job_id = self.lock.items[change.id].job_id or ""
            else:
                job_id = self._retrier.call(lambda: self._submit(target, request), on_retry)
                if provider.durable_jobs:
                    self._record(change, JobResult(state="finished", job_id=job_id), pending=True)
            result = self._retrier.call(lambda: provider.wait(job_id, request), on_retry)
            result = self._with_subtitles(target, request, result)
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
        self._record(change, result)

    def _submit(self, target: str, request: AudioRequest) -> str:
        self.pacers[target].acquire(self.stop)
        return self.providers[target].submit(request)

    def _with_subtitles(self, target: str, request: AudioRequest, result: JobResult) -> JobResult:
        """`result` with its subtitle files written, when it has timings and a place for them."""
        base = self.subtitle_dirs.get(target)
        if result.state != "finished" or not result.segments or self.root is None or base is None:
            return result
        subtitles = write_subtitles(
            self.root, f"{base.rstrip('/')}/{request.object_key}", result.segments
        )
        return replace(result, subtitles=subtitles)

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
