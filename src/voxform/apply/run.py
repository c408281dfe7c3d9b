"""Carrying out a plan: the journal, the providers, signals, and the pipeline between them."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

from voxform.apply.copies import Copier
from voxform.apply.holdings import paced_storages, record_all
from voxform.apply.outcome import Outcome, Progress
from voxform.apply.pipeline import Pipeline
from voxform.apply.prune import prune as prune_removed
from voxform.errors import VoxformError
from voxform.plan.plan import Plan
from voxform.project import LoadedProject
from voxform.providers.registry import open_providers, provider_for
from voxform.state.journal import Journal

DEFAULT_PARALLELISM = 200  # jobs in flight: a 30/s target with 3 s jobs needs about 100


def apply_plan(
    loaded: LoadedProject,
    plan: Plan,
    progress: Progress,
    *,
    profile: str | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
    submit: bool = True,
    prune: bool = False,
) -> Outcome:
    """Synthesize every pending change of `plan`, journaling each step; the lockfile is
    written at checkpoints and at the end. SIGINT or SIGTERM stops submitting and saves
    state; a second one exits at once, the journal whole. With `submit=False` (refresh)
    only jobs already submitted are followed, and nothing is sent."""
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
    saved = False
    try:
        with open_providers(loaded.project, names, profile=profile) as providers:
            subtitle_dirs = {
                n: provider_for(targets[n]).subtitle_dir(targets[n]) for n in providers
            }
            pipeline = Pipeline(
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
            started = time.monotonic()
            rest = plan
            if submit and any(c.action == "copy" for c in plan.pending):
                rest = _copy_first(loaded, plan, journal, pipeline, subtitle_dirs, profile)
            else:  # refresh sends nothing: a copy waits for an apply, as a create does
                rest = Plan(tuple(c for c in plan.changes if c.action != "copy"))
            if pipeline.outcome.interrupted:
                outcome = pipeline.outcome
            else:
                with _stop_on_signals(pipeline.stop):
                    outcome = pipeline.run(rest)
            outcome.seconds = time.monotonic() - started
            pipeline.calls.superseded.report(outcome)
        found = record_all(
            loaded.project, loaded.rendered, loaded.lock, journal.record, profile, names
        )
        outcome.objects_recorded, outcome.objects_error = len(found.recorded), found.error
        if prune and not (outcome.interrupted or outcome.fatal):
            root, lock = loaded.project.root, loaded.lock
            prune_removed(root, plan, lock, journal.record, outcome)
        journal.close(loaded.lock)
        saved = True
    finally:
        if not saved:
            journal.close(None)  # keep the journal: the next command replays it
    return outcome


def _copy_first(
    loaded: LoadedProject,
    plan: Plan,
    journal: Journal,
    pipeline: Pipeline,
    subtitle_dirs: dict[str, str],
    profile: str | None,
) -> Plan:
    """Carry out the plan's copies (their results in the pipeline's outcome); the plan
    left for the pipeline, each copy that failed in it as the synthesis it falls back to."""
    copies = [c for c in plan.pending if c.action == "copy"]
    names = sorted({c.target for c in copies if c.target})
    with paced_storages(loaded.project, names, profile) as storages:
        copier = Copier(
            loaded.lock,
            storages,
            loaded.project.root,
            subtitle_dirs,
            journal.record,
            journal.flush,
            pipeline.progress,
            pipeline.outcome,
        )
        with _stop_on_signals(copier.stop):
            fallbacks = {c.id: c for c in copier.run(copies)}
    if copier.stopped:
        pipeline.outcome.interrupted = True
    return Plan(
        tuple(
            fallbacks.get(c.id, c) for c in plan.changes if c.action != "copy" or c.id in fallbacks
        )
    )


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
