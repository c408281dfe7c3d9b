"""The calls the pipeline makes, handed back as `Done` values.

A provider whose calls come in two halves (ICE: the request's bytes, then what the answer
means) has them sent and read on the scheduler thread itself, on non-blocking connections
(providers/multiplex.py), the subtitle files of a finished job written there too: no thread
hand-off per call. Other calls run on daemon threads (`Workers`), which do I/O only (a
provider call, and the subtitle files of a finished job). Every decision and every state
change stays on the scheduler thread.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from voxform.apply.flight import Flight
from voxform.apply.prune import Superseded
from voxform.apply.subtitles import check_subtitles, store_subtitles
from voxform.providers.connections import Answer
from voxform.providers.ice import IceProvider, Rpc
from voxform.providers.multiplex import Multiplexer
from voxform.providers.protocol import JobResult, Operation, Provider


@dataclass
class Done:
    """A call's end, as a worker hands it to the scheduler."""

    flight: Flight | None  # None for a page of the job list
    operation: Operation
    target: str
    value: object = None  # a job id, a JobResult or None (still running), or a JobPage
    error: Exception | None = None


class Workers:
    """Daemon threads running calls, so a call that hangs past a stop never holds the
    process open (a ThreadPoolExecutor's threads are joined at exit).

    A few threads to start with, one more whenever every thread is busy, up to `size`: calls
    to a nearby endpoint need only a few, calls across an ocean many, and idle threads
    contending for the GIL cost CPU.
    """

    def __init__(self, size: int, start: int = 4) -> None:
        self.size = size
        self._start = min(start, size)
        self._work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._guard = threading.Lock()

    def submit(self, call: Callable[[], None]) -> None:
        with self._guard:
            grow = not self._threads or (self._idle == 0 and len(self._threads) < self.size)
            count = self._start if not self._threads else 1
        if grow:
            for _ in range(count):
                self._spawn()
        self._work.put(call)

    def close(self) -> None:
        """Let idle threads end; a thread still in a call ends when the call does."""
        for _ in self._threads:
            self._work.put(None)

    def _spawn(self) -> None:
        thread = threading.Thread(
            target=self._serve, name=f"voxform-apply-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _serve(self) -> None:
        while True:
            with self._guard:
                self._idle += 1
            call = self._work.get()
            with self._guard:
                self._idle -= 1
            if call is None:
                return
            call()


class Caller:
    """Starts provider calls on the workers; their ends arrive on `done`."""

    def __init__(
        self,
        providers: Mapping[str, Provider],
        workers: Workers,
        *,
        root: Path | None,
        subtitle_dirs: Mapping[str, str],
    ) -> None:
        self.providers = providers
        self.workers = workers
        self.root = root
        self.subtitle_dirs = subtitle_dirs
        self.superseded = Superseded(root)
        self.done: queue.SimpleQueue[Done | None] = queue.SimpleQueue()
        self.outstanding = 0  # calls started whose end the scheduler has not taken
        self._ready: list[Done] = []  # ends known on the scheduler thread, not yet taken
        self._mux: Multiplexer | None = None
        self._split: dict[str, IceProvider] = {}  # providers whose calls come in two halves
        for target, provider in providers.items():
            if isinstance(split := _as_object(provider), IceProvider):
                self._split[target] = split
                self._mux = self._mux or Multiplexer(workers.submit)
                self._mux.add(target, split.client.connect, split.client.timeout, workers.size)

    @property
    def full(self) -> bool:
        return self.outstanding >= self.workers.size

    def start(self, flight: Flight, role: Operation) -> None:
        """Submit or check one flight's job."""
        self.outstanding += 1
        provider = self._split.get(flight.target)
        if self._mux is None or provider is None:
            self.workers.submit(lambda: self._run(flight, role))
            return
        rpc: Rpc[str] | Rpc[JobResult | None]
        try:
            if role == "submit":
                self._check(flight)
                rpc = provider.submit_call(flight.request, flight.token)
            else:
                rpc = provider.check_call(flight.job_id or "", flight.request)
        except Exception as exc:  # handed to the scheduler, which decides
            self._ready.append(Done(flight, role, flight.target, error=exc))
            return
        context = (flight, role, rpc)
        if rpc.problem is not None:
            self._ready.append(self._ended(context, rpc.problem))
        else:
            self._mux.send(flight.target, rpc.wire, context)

    def wake(self) -> None:
        """Wake the scheduler waiting in `wait` (from any thread)."""
        self.done.put(None)
        if self._mux is not None:
            self._mux.wake()

    def wait(self, timeout: float) -> list[Done]:
        """The calls that have ended, waiting up to `timeout` seconds for one (or a wake)."""
        ends, self._ready = self._ready, []
        if self._mux is not None:
            patience = 0.0 if ends or not self.done.empty() else timeout
            for context, answer in self._mux.wait(patience):
                ends.append(self._ended(context, answer))
        elif not ends:
            with contextlib.suppress(queue.Empty):
                ends.append(self.done.get(timeout=timeout))  # type: ignore[arg-type]
        while True:
            try:
                ends.append(self.done.get_nowait())  # type: ignore[arg-type]
            except queue.Empty:
                return [done for done in ends if done is not None]

    def close(self) -> None:
        """Close the scheduler's own connections (calls under way on them never end)."""
        if self._mux is not None:
            self._mux.close()

    def list_jobs(self, target: str, page: str | None) -> None:
        """Read one page of the target's job list."""
        self.outstanding += 1

        def call() -> None:
            done = Done(None, "list", target)
            try:
                done.value = self.providers[target].list_jobs(page)
            except Exception as exc:  # handed to the scheduler, which decides
                done.error = exc
            self._post(done)

        self.workers.submit(call)

    def taken(self) -> None:
        """The scheduler has taken one call's end."""
        self.outstanding -= 1

    def _run(self, flight: Flight, role: Operation) -> None:
        provider = self.providers[flight.target]
        done = Done(flight, role, flight.target)
        try:
            if role == "submit":
                self._check(flight)
                job_id = provider.submit(flight.request, flight.token)
                if provider.durable_jobs:
                    done.value = job_id
                else:  # the job is done when submit returns: collect it at once
                    done.operation, done.value = "check", self._result(flight, job_id)
            else:
                done.value = self._result(flight, flight.job_id or "")
        except Exception as exc:  # handed to the scheduler, which decides
            done.error = exc
        self._post(done)

    def _post(self, done: Done) -> None:
        """Hand a call's end from a worker to the scheduler."""
        self.done.put(done)
        if self._mux is not None:
            self._mux.wake()

    def _ended(self, context: object, answer: Answer | Exception) -> Done:
        """The end of a call the scheduler sent itself: what its answer means, and for a
        finished job its subtitle files written."""
        flight, role, rpc = cast(tuple[Flight, Operation, Rpc[Any]], context)
        done = Done(flight, role, flight.target)
        try:
            value = rpc.finish(answer)
            done.value = self._kept(flight, value) if role == "check" else value
        except Exception as exc:  # handed to the scheduler, which decides
            done.error = exc
        return done

    def _result(self, flight: Flight, job_id: str) -> JobResult | None:
        return self._kept(flight, self.providers[flight.target].check(job_id, flight.request))

    def _kept(self, flight: Flight, result: JobResult | None) -> JobResult | None:
        """A job's result, its subtitle files written and the files it replaces removed."""
        if result is None or result.state != "finished" or self.root is None:
            return result
        place = self._subtitles(flight)
        if result.segments and place is not None:
            result = store_subtitles(*place, result)
            if result.state != "finished":
                return result  # the job is kept, to be read again: old files stay till then
        # A format or path change leaves the old files behind: they are not this item's now
        # (one that cannot go stays; the result, paid for, must not be lost over it).
        with contextlib.suppress(OSError):
            new = {result.url or "", *(result.subtitles or {}).values()}
            self.superseded.remove(flight.change, flight.previous, new)
        return result

    def _check(self, flight: Flight) -> None:
        """Refuse a submission whose subtitle files could not be written: nothing is paid
        for a result it cannot keep."""
        if (place := self._subtitles(flight)) is not None:
            check_subtitles(*place)

    def _subtitles(self, flight: Flight) -> tuple[Path, str] | None:
        """The project and the flight's subtitle files there, without the extension."""
        base = self.subtitle_dirs.get(flight.target)
        if base is None or self.root is None:
            return None
        return self.root, f"{base.rstrip('/')}/{flight.request.object_key}"


def _as_object(provider: Provider) -> object:
    return provider
