"""`voxform apply`: carry out the plan and record every job in the lockfile."""

from __future__ import annotations

import sys

import click

from voxform.apply.outcome import Outcome
from voxform.apply.prune import DEFAULT_MAX_DELETE, check_prune
from voxform.apply.run import DEFAULT_PARALLELISM, apply_plan
from voxform.cli.common import load, project_dir, reporting, selection_options
from voxform.errors import VoxformError
from voxform.report import Reporter
from voxform.state.lease import lease


@click.command()
@selection_options
@click.option(
    "-y", "--yes", "--auto-approve", "yes", is_flag=True, help="Do not ask for confirmation."
)
@click.option(
    "--profile",
    envvar="ALIBABA_CLOUD_PROFILE",
    default=None,
    help="aliyun CLI profile for ice targets (default: environment variables, then current).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(0),
    default=0,
    metavar="SECONDS",
    help="Wait this long for another apply to finish (default: fail at once).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 10_000),
    default=DEFAULT_PARALLELISM,
    show_default=True,
    help="Jobs in flight at once (submitted, result not yet in).",
)
@click.option("--prune", is_flag=True, help="Also delete the outputs of removed items.")
@click.option(
    "--max-delete",
    default=DEFAULT_MAX_DELETE,
    show_default=True,
    metavar="N|P%",
    help="With --prune: refuse to delete more items than this count or share.",
)
@click.pass_context
@reporting
def apply(
    ctx: click.Context,
    reporter: Reporter,
    select: tuple[str, ...],
    replace: tuple[str, ...],
    yes: bool,
    profile: str | None,
    lock_timeout: float,
    parallelism: int,
    prune: bool,
    max_delete: str,
) -> None:
    """Synthesize what changed and record the results in voxform.lock."""
    with lease(project_dir(ctx), timeout=lock_timeout):
        loaded = load(ctx)
        plan = loaded.plan(select=select, replace=replace)
        if prune:
            check_prune(
                len(plan.orphans), len(loaded.lock.items), len(loaded.rendered), max_delete
            )
        reporter.apply_plan(plan)
        if not plan.synthesizing and not (prune and plan.orphans):
            reporter.outcome(Outcome())
            return
        if not yes and not _confirmed():
            reporter.info("Apply cancelled.")
            return
        outcome = apply_plan(
            loaded, plan, reporter, profile=profile, parallelism=parallelism, prune=prune
        )
    reporter.outcome(outcome)
    if outcome.fatal is not None:
        raise outcome.fatal
    sys.exit(1 if outcome.failed or outcome.interrupted or outcome.unresolved else 0)


def _confirmed() -> bool:
    """Ask on a terminal; refuse without one (CI must say --yes)."""
    if not sys.stdin.isatty():
        raise VoxformError("refusing to apply without confirmation: pass --yes (no terminal)")
    return click.confirm("Apply these changes?", default=False)
