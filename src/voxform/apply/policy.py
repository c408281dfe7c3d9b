"""What apply and refresh decide around a run: the lease, the saved plan's check, what the
buckets hold, the prune preflight, the confirmation; the CLI only parses their options and
turns the outcome into an exit code.

Everything from reading the project to the last lockfile write happens under the project's
apply lease, so two applies never plan against the same lockfile. The executor (and the HTTP
client with it) is imported only when a run is made: `plan` reads what the buckets hold
through `held.py` without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from voxform.apply.held import Telling, held_objects
from voxform.apply.outcome import Outcome, Progress
from voxform.apply.prune import check_prune
from voxform.errors import VoxformError
from voxform.plan.plan import Plan, object_drift
from voxform.plan.saved import check as check_saved
from voxform.plan.saved import load as load_saved
from voxform.reading import read_regular
from voxform.state.journal import Journal
from voxform.state.lease import lease

if TYPE_CHECKING:
    from voxform.project import LoadedProject

SAVED_PLAN_LIMIT = 1 << 28  # bytes of a saved plan read, at most
SHOWN = 10  # drifted objects told one by one by refresh; more are counted


class RunTelling(Telling, Progress, Protocol):
    """What apply and refresh tell: the plan they carry out, and how it goes."""

    def apply_plan(self, plan: Plan) -> None:
        """The plan about to be carried out."""
        ...

    def info(self, message: str) -> None:
        """A line for people."""
        ...


@dataclass(frozen=True)
class ApplyOptions:
    """`voxform apply`'s options, as parsed."""

    planfile: Path | None  # a plan saved by `plan --out`, applied exactly
    select: tuple[str, ...]
    replace: tuple[str, ...]
    yes: bool  # do not ask for confirmation
    profile: str | None
    lock_timeout: float  # seconds to wait for the lease
    parallelism: int | None  # jobs in flight at once (None: run.default_parallelism)
    prune: bool
    max_delete: str  # --max-delete, checked as it was parsed
    refresh: bool  # read the buckets before planning


def apply_project(
    directory: Path,
    load: Callable[[], LoadedProject],
    told: RunTelling,
    options: ApplyOptions,
    confirm: Callable[[], bool],
) -> Outcome | None:
    """Plan under the lease (or take the saved plan, if nothing moved on since it was made),
    check a prune, ask `confirm` unless told yes, and carry the plan out; what was done
    (empty when there was nothing to do), or None when the user said no."""
    from voxform.apply.run import apply_plan

    select, replace, yes, refresh = options.select, options.replace, options.yes, options.refresh
    planfile, prune = options.planfile, options.prune
    with lease(directory, timeout=options.lock_timeout):
        loaded = load()
        if planfile is not None:
            if select or replace:
                raise VoxformError("a saved plan carries its own --select and --replace")
            saved = load_saved(
                str(planfile), read_regular(planfile, SAVED_PLAN_LIMIT, "saved plan")
            )
            select, replace, yes, refresh = saved.select, saved.replace, True, saved.refresh
        loaded.require_valid()  # a manifest error is told before any bucket is read
        profile = options.profile
        held = held_objects(loaded, told, refresh=refresh, select=select, profile=profile)
        plan = loaded.plan(select=select, replace=replace, held=held, refresh=refresh)
        if planfile is not None:
            current = loaded.saved(plan, select, replace, refresh=held is not None)
            check_saved(saved, current, str(planfile))
        if prune:
            recorded, rendered = len(loaded.lock.items), len(loaded.rendered)
            check_prune(len(plan.orphans), recorded, rendered, options.max_delete)
        told.apply_plan(plan)
        if not plan.synthesizing and not (prune and plan.orphans):
            _fold_journal(loaded)
            return Outcome()
        if not yes and not confirm():
            told.info("Apply cancelled.")
            return None
        parallelism = options.parallelism
        return apply_plan(loaded, plan, told, profile=profile, parallelism=parallelism, prune=prune)


def _fold_journal(loaded: LoadedProject) -> None:
    """A journal left by a crashed apply, with nothing left to do, is written into
    voxform.lock (the file that is committed), not left for the next command to replay."""
    if loaded.journal_path.is_file():
        journal = Journal(loaded.lock_path, loaded.journal_path)
        journal.open()
        journal.close(loaded.lock)


def refresh_project(
    directory: Path,
    load: Callable[[], LoadedProject],
    told: RunTelling,
    *,
    profile: str | None = None,
    lock_timeout: float = 0.0,
) -> Outcome | None:
    """Under the lease: warn of drifted objects, then follow the jobs already submitted
    and record their results, sending nothing; None when none was pending (the finished
    items' objects are recorded then)."""
    from voxform.apply.holdings import refresh_objects
    from voxform.apply.run import apply_plan

    with lease(directory, timeout=lock_timeout):
        loaded = load()
        _tell_drift(loaded, told, profile)
        full = loaded.plan()
        plan = Plan(tuple(c for c in full.changes if c.action == "resume"))
        if not plan.changes:
            journal = Journal(loaded.lock_path, loaded.journal_path)
            found = refresh_objects(loaded.project, loaded.rendered, journal, loaded.lock, profile)
            told.info("Nothing pending: every recorded job has its result.")
            if found.recorded:
                told.info(f"Recorded the objects of {len(found.recorded)} finished items.")
            if found.error:
                told.warning(found.error)
            return None
        told.apply_plan(plan)
        return apply_plan(loaded, plan, told, profile=profile, submit=False)


def _tell_drift(loaded: LoadedProject, told: Telling, profile: str | None) -> None:
    """Warn of each finished item whose object in its bucket is missing or changed (apply
    makes it again); a bucket that cannot be read is a warning here, not an error."""
    loaded.require_valid()
    try:
        held = held_objects(loaded, told, refresh=True, profile=profile)
    except VoxformError as error:
        told.warning(str(error).partition(" (pass --no-refresh")[0])
        return
    drifted = [
        (item_id, why)
        for item_id, entry in sorted(loaded.lock.items.items())
        if held and (why := object_drift(entry, held)) is not None
    ]
    for item_id, why in drifted[:SHOWN]:
        told.warning(f"{item_id}: {why}; `voxform apply` makes it again")
    if len(drifted) > SHOWN:
        told.warning(f"... and {len(drifted) - SHOWN} more items whose objects drifted")
