"""`voxform refresh`: collect the results of jobs already submitted; submit nothing."""

from __future__ import annotations

import sys

import click

from voxform.apply.holdings import refresh_objects
from voxform.apply.run import apply_plan
from voxform.cli.common import held_objects, load, project_dir, reporting, run_options
from voxform.errors import VoxformError
from voxform.plan.plan import Plan, object_drift
from voxform.project import LoadedProject
from voxform.report import Reporter
from voxform.state.journal import Journal
from voxform.state.lease import lease

SHOWN = 10  # drifted objects told one by one; more are counted


@click.command()
@run_options
@click.pass_context
@reporting
def refresh(
    ctx: click.Context, reporter: Reporter, profile: str | None, lock_timeout: float
) -> None:
    """Poll the pending jobs in voxform.lock and record their results; send nothing.

    A submission whose job id was never recorded is looked up by its token; if the service
    has no such job, the item stays pending for the next apply to send.
    """
    with lease(project_dir(ctx), timeout=lock_timeout):
        loaded = load(ctx)
        _tell_drift(loaded, reporter, profile)
        full = loaded.plan()
        plan = Plan(tuple(c for c in full.changes if c.action == "resume"))
        if not plan.changes:
            journal = Journal(loaded.lock_path, loaded.journal_path)
            found = refresh_objects(loaded.project, loaded.rendered, journal, loaded.lock, profile)
            reporter.info("Nothing pending: every recorded job has its result.")
            if found.recorded:
                reporter.info(f"Recorded the objects of {len(found.recorded)} finished items.")
            if found.error:
                reporter.warning(found.error)
            return
        reporter.apply_plan(plan)
        outcome = apply_plan(loaded, plan, reporter, profile=profile, submit=False)
    reporter.outcome(outcome)
    if outcome.fatal is not None:
        raise outcome.fatal
    sys.exit(1 if outcome.interrupted or outcome.unresolved else 0)


def _tell_drift(loaded: LoadedProject, reporter: Reporter, profile: str | None) -> None:
    """Warn of each finished item whose object in its bucket is missing or changed (apply
    makes it again); a bucket that cannot be read is a warning here, not an error."""
    loaded.require_valid()
    try:
        held = held_objects(loaded, reporter, refresh=True, profile=profile)
    except VoxformError as error:
        reporter.warning(str(error).partition(" (pass --no-refresh")[0])
        return
    drifted = [
        (item_id, why)
        for item_id, entry in sorted(loaded.lock.items.items())
        if held and (why := object_drift(entry, held)) is not None
    ]
    for item_id, why in drifted[:SHOWN]:
        reporter.warning(f"{item_id}: {why}; `voxform apply` makes it again")
    if len(drifted) > SHOWN:
        reporter.warning(f"... and {len(drifted) - SHOWN} more items whose objects drifted")
