"""Rendering many items in forked worker processes, with the results of a serial render.

A render reads nothing but its item, the project and the templates, so items can be
rendered anywhere; two things make a worker's answer differ from the serial one unless
handled here:

- The sandbox's run-wide budget of steps (sandbox.py) depends on every render before an
  item. Each worker reports its renders' steps beyond the per-item allowance; when all of
  them together leave the budget above one render's own limit, no render anywhere could
  have met the run-wide limit (serially or in a worker), so the answers are the serial
  ones. Otherwise the items are rendered again, serially.
- Order: each worker renders a contiguous run of items and the runs are joined in order.

A worker's answer is a run's results packed: plain tuples of strings and numbers (what
most results are packed to: nothing of them is the parent's already) pickled as they are,
and the rest pickled apart with the items by reference (a pickle persistent id), naming the
parent's own Item objects instead of copying their text. Unpacking a tuple is given its item.
"""

from __future__ import annotations

import io
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from voxform.aside import MIN_ITEMS as MIN_ITEMS
from voxform.manifest.model import Project
from voxform.render import limits
from voxform.render.model import Item
from voxform.render.sandbox import Sandbox

_RUNS_PER_WORKER: Final = 16  # small runs even out workers slowed by other processes
_PATIENCE: Final = 1.0  # seconds between checks that the workers still live
_FINISHED: Final = -1  # a worker's last answer
_FAILED: Final = -2  # a worker's answer when a render raised
T = TypeVar("T")


@dataclass(frozen=True)
class _Job:
    """What every worker inherits at the fork: nothing is sent to it but a range."""

    project: Project
    items: Sequence[Item]
    known: Mapping[str, str]
    render: Callable[[Project, Sandbox, Item, Mapping[str, str]], Any]
    make_env: Callable[[], Sandbox]
    pack: Callable[[Any], object]


_job: _Job | None = None
# (index of the run, its plain results pickled, the others pickled with items by reference,
# the steps its renders took beyond the per-item allowance)
_Answer = tuple[int, bytes, bytes, int]


def workers_for(count: int) -> int:
    """How many processes to render `count` items in: 1 (in this one) when forking does not
    pay (few items, or no core free: a worker then only adds the cost of sending results),
    is not available, or is not safe (another thread could hold a lock at the fork)."""
    if count < MIN_ITEMS:
        return 1
    import multiprocessing  # here: a plan rendering few items (a second one) imports none of it

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        load: float | None = os.getloadavg()[0]
    except OSError:
        load = None
    try:
        with open("/proc/loadavg", encoding="ascii") as file:  # "0.52 0.58 0.59 3/467 1234"
            running: int | None = int(file.read().split()[3].partition("/")[0])
    except (OSError, ValueError, IndexError):
        running = None
    return max(1, min(cores, round(cores - busy(load, running)), count // (MIN_ITEMS // 2)))


def busy(load: float | None, running: int | None) -> float:
    """How many cores other processes keep busy, by the load average `load` (which still
    counts, for a minute, the commands that ran just before this one: a bench's or a
    script's) and the processes `running` at this moment, this one included: the lesser."""
    if load is None:
        return 0.0
    others = load - 1  # this process counts in the load
    return max(0.0, others if running is None else min(others, running - 1))


def render_forked(
    project: Project,
    items: Sequence[Item],
    known: Mapping[str, str],
    render: Callable[[Project, Sandbox, Item, Mapping[str, str]], T],
    make_env: Callable[[], Sandbox],
    workers: int,
    pack: Callable[[T], object] = lambda result: result,
    unpack: Callable[[object, Item], T] = lambda packed, item: packed,  # type: ignore[assignment,return-value]
    finish: Callable[[int, T], T] = lambda index, result: result,
) -> list[T] | None:
    """`finish(i, render(project, env, items[i], known))` of every item, in order, by this
    process and `workers - 1` forked ones, each taking the next run of items while there is
    one; None when the run-wide step budget could have told otherwise (render them serially
    then). A worker sends `pack(result)`, which `unpack(packed, item)` makes the result
    again; `finish` is this process's, on each result as it comes, between the runs it
    renders itself (so the workers render more of them meanwhile)."""
    global _job
    import multiprocessing.queues  # as in workers_for

    runs = _runs(len(items), workers * _RUNS_PER_WORKER)
    context = multiprocessing.get_context("fork")
    claimed = context.Value("i", 0)
    answers: multiprocessing.queues.Queue[_Answer] = context.Queue()
    _job = _Job(project, items, known, render, make_env, pack)
    children = [
        context.Process(target=_work, args=(runs, claimed, answers), daemon=True)
        for _ in range(workers - 1)
    ]
    for stream in (sys.stdout, sys.stderr):  # a child must not write out a copy of them
        stream.flush()
    try:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:  # a child ignores Ctrl-C before it can take it (the parent tells it)
            for child in children:
                child.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        env = make_env()
        done: dict[int, list[T]] = {}
        excess = finished = 0
        while (index := _claim(claimed, len(runs))) is not None:
            start, end = runs[index]
            done[index] = [
                finish(i, render(project, env, items[i], known)) for i in range(start, end)
            ]
            while finished < len(children):  # what the workers sent meanwhile
                try:
                    answer = answers.get(block=False)
                except queue.Empty:
                    break
                finished += _take(answer, runs, items, done, unpack, finish)
                excess += answer[3]
        while finished < len(children):
            try:
                answer = answers.get(timeout=_PATIENCE)
            except queue.Empty:
                if any(child.is_alive() for child in children):
                    continue
                return None  # a worker was killed (out of memory?): render serially
            finished += _take(answer, runs, items, done, unpack, finish)
            excess += answer[3]
        excess += env.excess_steps
    except _Failed:
        return None  # a worker's render raised: serially, the same error tells itself
    finally:
        _job = None
        for child in children:
            if child.is_alive():
                child.kill()
            child.join()
    if excess > limits.RUN_STEPS - limits.STEPS_PER_RENDER:
        return None
    return [result for index in range(len(runs)) for result in done[index]]


class _Failed(Exception):
    """A worker's render raised."""


def _take(
    answer: _Answer,
    runs: list[tuple[int, int]],
    items: Sequence[Item],
    done: dict[int, list[T]],
    unpack: Callable[[object, Item], T],
    finish: Callable[[int, T], T],
) -> int:
    """Take in a worker's answer: 1 when it is its last one, else 0."""
    index, plain, rest, _ = answer
    if index == _FAILED:
        raise _Failed
    if index == _FINISHED:
        return 1
    start = runs[index][0]
    loaded: list[object] = pickle.loads(plain)
    if rest:
        for i, packed in _Unpickler(rest, items, start).load().items():
            loaded[i] = packed
    done[index] = [
        finish(start + i, unpack(packed, items[start + i])) for i, packed in enumerate(loaded)
    ]
    return 0


def _claim(claimed: Any, count: int) -> int | None:
    """The next run nobody has taken, or None."""
    with claimed.get_lock():
        index = int(claimed.value)
        if index >= count:
            return None
        claimed.value = index + 1
    return index


def _runs(count: int, parts: int) -> list[tuple[int, int]]:
    size = -(-count // max(parts, 1))
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _work(runs: list[tuple[int, int]], claimed: Any, answers: Any) -> None:
    """In a worker: render runs while there are any, each answered pickled with its items
    by reference and the steps its renders took beyond the per-item allowance."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to tell
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    job = _job
    assert job is not None, "a worker is forked with its job"
    try:
        env = job.make_env()
        excess = 0
        while (index := _claim(claimed, len(runs))) is not None:
            start, end = runs[index]
            results = [
                job.pack(job.render(job.project, env, job.items[i], job.known))
                for i in range(start, end)
            ]
            rest = {i: packed for i, packed in enumerate(results) if type(packed) is not tuple}
            for i in rest:
                results[i] = None
            plain = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
            buffer = io.BytesIO()
            if rest:
                _Pickler(buffer, job.items, start, end).dump(rest)
            answers.put((index, plain, buffer.getvalue(), env.excess_steps - excess))
            excess = env.excess_steps
        answers.put((_FINISHED, b"", b"", env.excess_steps - excess))
    except Exception:  # the parent renders serially, where the error tells itself
        answers.put((_FAILED, b"", b"", 0))
    answers.close()
    answers.join_thread()


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, items: Sequence[Item], start: int, end: int) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._index = {id(items[i]): i - start for i in range(start, end)}
        self._items = items
        self._start = start

    def persistent_id(self, obj: object) -> int | None:
        if type(obj) is Item:
            index = self._index.get(id(obj))
            if index is not None and self._items[self._start + index] is obj:
                return index
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, blob: bytes, items: Sequence[Item], start: int) -> None:
        super().__init__(io.BytesIO(blob))
        self._items = items
        self._start = start

    def persistent_load(self, pid: object) -> Item:
        if not isinstance(pid, int):
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return self._items[self._start + pid]
