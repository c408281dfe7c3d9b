"""`voxform refresh`: collect the results of jobs already submitted; submit nothing."""

from __future__ import annotations

import sys

import click

from voxform.apply.policy import refresh_project
from voxform.cli.common import load, project_dir, reporting, run_options
from voxform.report import Reporter


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
    outcome = refresh_project(
        project_dir(ctx), lambda: load(ctx), reporter, profile=profile, lock_timeout=lock_timeout
    )
    if outcome is None:
        return  # nothing was pending
    reporter.outcome(outcome)
    if outcome.fatal is not None:
        raise outcome.fatal
    sys.exit(1 if outcome.interrupted or outcome.unresolved else 0)
