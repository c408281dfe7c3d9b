"""Carrying out a plan: the journal, the providers, signals, and the pipeline between them."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import FrameType

from voxform.apply.buckets import Deleter
from voxform.apply.copies import COPY_OPERATION, COPY_RATE, Copier
from voxform.apply.holdings import record_all
from voxform.apply.outcome import Outcome, Progress
from voxform.apply.paced_storage import PacedStorage
from voxform.apply.pipeline import Pipeline
from voxform.apply.prune import prune as prune_removed
from voxform.errors import VoxformError
from voxform.ice.wire import SUBMIT
from voxform.plan.plan import SYNTHESIZING, Change, Plan
from voxform.project import LoadedProject
from voxform.providers.registry import open_providers, open_storages, provider_for
from voxform.state.journal import Journal, index_path
from voxform.state.lockindex import save_index
from voxform.state.outputs import CACHE_NAME, save_written

DEFAULT_PARALLELISM = 200  # jobs in flight: a 30/s target with 3 s jobs needs about 100
SECONDS_IN_FLIGHT = 0.6  # a job of a fraction of a second: submitted, done, looked at
MOST_IN_FLIGHT = 2_000  # the most the default allows, whatever the rates stated


def default_parallelism(limits: Iterable[Mapping[str, float]]) -> int:
    """Jobs in flight when `--parallelism` is not given: DEFAULT_PARALLELISM, or enough to
    keep the submit rates the targets state (`rate_limits`) busy, at most MOST_IN_FLIGHT. A
    job counts from its submission to the look that finds it done, so a target that takes
    R submissions a second needs R x that time in flight; with fewer, the bound and not the
    service sets the pace (Little's law: 200 jobs of 0.6 s are 333 a second)."""
    rate = sum(limit.get(SUBMIT, 0.0) for limit in limits)
    return max(DEFAULT_PARALLELISM, min(MOST_IN_FLIGHT, math.ceil(rate * SECONDS_IN_FLIGHT)))


def apply_plan(
    loaded: LoadedProject,
    plan: Plan,
    progress: Progress,
    *,
    profile: str | None = None,
    parallelism: int | None = None,
    submit: bool = True,
    prune: bool = False,
) -> Outcome:
    """Synthesize every pending change of `plan`, journaling each step; the lockfile is
    written at checkpoints and at the end. SIGINT or SIGTERM stops submitting and saves
    state; a second one exits at once, the journal whole. With `submit=False` (refresh)
    only jobs already submitted are followed, and nothing is sent. `parallelism` None:
    `default_parallelism` of the targets that have changes."""
    journal = Journal(loaded.lock_path, loaded.journal_path)
    try:
        journal.open()
    except OSError as exc:
        raise VoxformError(
            f"cannot record this apply ({exc.strerror or exc}: {exc.filename or ''}); "
            "nothing was submitted"
        ) from None
    targets = loaded.project.targets
    names = {c.target for c in plan.pending if c.target}
    if parallelism is None:
        parallelism = default_parallelism(targets[n].rate_limits for n in sorted(names))
    saved = False
    try:
        with open_providers(loaded.project, names, profile=profile) as providers:
            subtitle_dirs = {
                n: provider_for(targets[n]).subtitle_dir(targets[n]) for n in providers
            }

            def pipeline() -> Pipeline:
                return Pipeline(
                    journal,
                    loaded.lock,
                    providers,
                    progress,
                    limits={n: targets[n].rate_limits for n in providers},
                    parallelism=parallelism,
                    root=loaded.project.root,
                    subtitle_dirs=subtitle_dirs,
                    intent_times=loaded.intent_times,
                    submit=submit,
                )

            def copy(copies: list[Change]) -> dict[str, Change]:
                copier = Copier(
                    loaded.lock,
                    {},
                    loaded.project.root,
                    subtitle_dirs,
                    journal.record,
                    journal.flush,
                    progress,
                    outcome,
                )
                return _copy(loaded, copier, copies, profile)

            first = pipeline()
            outcome = first.outcome
            started = time.monotonic()
            # Refresh sends nothing: a copy waits for an apply, as a create does. A copy of
            # what this run makes (a line made twice) waits for it to be made.
            copies = [c for c in plan.pending if c.action == "copy"] if submit else []
            making = {c.id for c in plan.pending if c.action in SYNTHESIZING}
            fallbacks = copy([c for c in copies if c.source not in making]) if copies else {}
            rest = [c for c in plan.changes if c.action != "copy"] + list(fallbacks.values())
            runs = [first]
            if not outcome.interrupted:
                with _stop_on_signals(first.stop):
                    first.run(Plan(tuple(rest)))
            later = [c for c in copies if c.source in making]
            if later and not (outcome.interrupted or outcome.fatal):
                # The objects just made, recorded: what their copies are checked against.
                record_all(
                    loaded.project, loaded.rendered, loaded.lock, journal.record, profile, names
                )
                again = list(copy(later).values())
                if again and not outcome.interrupted:
                    second = pipeline()
                    second.outcome = outcome
                    runs.append(second)
                    with _stop_on_signals(second.stop):
                        second.run(Plan(tuple(again)))
            outcome.seconds = time.monotonic() - started
        found = record_all(
            loaded.project, loaded.rendered, loaded.lock, journal.record, profile, names
        )
        outcome.objects_recorded, outcome.objects_error = len(found.recorded), found.error
        with Deleter(loaded.project, profile) as delete_objects:
            for run in runs:  # the updates that replace them are done
                run.calls.superseded.delete_objects(delete_objects)
                run.calls.superseded.report(outcome)
            if prune and not (outcome.interrupted or outcome.fatal):
                root, lock = loaded.project.root, loaded.lock
                prune_removed(root, plan, lock, journal.record, outcome, delete_objects)
        journal.close(loaded.lock)
        saved = True
    finally:
        if not saved:
            journal.close(None)  # keep the journal: the next command replays it
        # The subtitle files written, as the stat cache of a plan would hold them: the plan
        # after this apply reads none of them again.
        save_written(loaded.project.root, loaded.journal_path.parent / CACHE_NAME)
        if saved:  # what the plan after it reads instead of the lockfile's JSON
            save_index(loaded.lock_path, index_path(loaded.journal_path), loaded.project.root)
    return outcome


def _copy(
    loaded: LoadedProject, copier: Copier, copies: list[Change], profile: str | None
) -> dict[str, Change]:
    """Carry out `copies` (their results in the copier's outcome) through the targets'
    storages; the changes that fall back to synthesis, by id. A stop (a signal) marks the
    outcome interrupted."""
    names = sorted({c.target for c in copies if c.target})
    targets = loaded.project.targets
    with open_storages(loaded.project, names, profile=profile) as opened:
        # OSS takes thousands of calls a second per bucket: unless a target states a limit,
        # copies start there, not at the modest guess for an operation of unknown limit.
        copier.storages = {
            name: PacedStorage(storage, {COPY_OPERATION: COPY_RATE, **targets[name].rate_limits})
            for name, storage in opened.items()
        }
        with _stop_on_signals(copier.stop):
            fallbacks = {c.id: c for c in copier.run(copies)}
    if copier.stopped:
        copier.outcome.interrupted = True
    return fallbacks


@contextlib.contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """First SIGINT/SIGTERM: stop the pipeline; second: leave at once (the journal holds
    only whole, fsync'd lines, so nothing is lost that was not also unsent)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = 0

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        received += 1
        if received > 1:
            os._exit(128 + signum)
        stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
