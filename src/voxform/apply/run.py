"""Carrying out a plan: the journal, the providers, signals, and the pipeline between them."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from voxform.apply.buckets import Deleter
from voxform.apply.holdings import record_all
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
            pipeline = Pipeline(
                journal,
                loaded.lock,
                providers,
                progress,
                limits={n: targets[n].rate_limits for n in providers},
                parallelism=parallelism,
                root=loaded.project.root,
                subtitle_dirs={
                    n: provider_for(targets[n]).subtitle_dir(targets[n]) for n in providers
                },
                intent_times=loaded.intent_times,
                submit=submit,
            )
            with _stop_on_signals(pipeline):
                outcome = pipeline.run(plan)
        found = record_all(
            loaded.project, loaded.rendered, loaded.lock, journal.record, profile, names
        )
        outcome.objects_recorded, outcome.objects_error = len(found.recorded), found.error
        with Deleter(loaded.project, profile) as delete_objects:
            superseded = pipeline.calls.superseded
            superseded.delete_objects(delete_objects)  # the updates that replace them are done
            superseded.report(outcome)
            if prune and not (outcome.interrupted or outcome.fatal):
                root, lock = loaded.project.root, loaded.lock
                prune_removed(root, plan, lock, journal.record, outcome, delete_objects)
        journal.close(loaded.lock)
        saved = True
    finally:
        if not saved:
            journal.close(None)  # keep the journal: the next command replays it
    return outcome


@contextlib.contextmanager
def _stop_on_signals(pipeline: Pipeline) -> Iterator[None]:
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
        pipeline.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
