"""`voxform apply`: carry out the plan and record every job in the lockfile."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voxform.apply.policy import ApplyOptions, apply_project
from voxform.apply.prune import DEFAULT_MAX_DELETE, parse_limit
from voxform.apply.run import DEFAULT_PARALLELISM, MOST_IN_FLIGHT, SECONDS_IN_FLIGHT
from voxform.cli.common import (
    load,
    project_dir,
    refresh_options,
    reporting,
    run_options,
    selection_options,
)
from voxform.errors import VoxformError
from voxform.report import Reporter


@click.command()
@click.argument(
    "planfile", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@selection_options
@refresh_options
@click.option(
    "-y", "--yes", "--auto-approve", "yes", is_flag=True, help="Do not ask for confirmation."
)
@run_options
@click.option(
    "--parallelism",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Jobs in flight at once (submitted, result not yet in). Default: "
    f"{DEFAULT_PARALLELISM}, or {SECONDS_IN_FLIGHT:g} s of the submit rates the targets "
    f"state in rate_limits when that is more, at most {MOST_IN_FLIGHT:,}.",
)
@click.option("--prune", is_flag=True, help="Also delete the outputs of removed items.")
@click.option(
    "--max-delete",
    default=DEFAULT_MAX_DELETE,
    show_default=True,
    metavar="N|P%",
    callback=lambda ctx, param, value: _max_delete(value),
    help="With --prune: refuse to delete more items than this count or share.",
)
@click.pass_context
@reporting
def apply(
    ctx: click.Context,
    reporter: Reporter,
    planfile: Path | None,
    select: tuple[str, ...],
    replace: tuple[str, ...],
    yes: bool,
    profile: str | None,
    lock_timeout: float,
    parallelism: int | None,
    prune: bool,
    max_delete: str,
    refresh: bool,
) -> None:
    """Synthesize what changed and record the results in voxform.lock.

    With PLANFILE (from `voxform plan --out`), apply exactly that plan, without asking, and
    only if neither the inputs nor the lockfile have moved on since it was made.
    """
    options = ApplyOptions(
        planfile,
        select,
        replace,
        yes,
        profile,
        lock_timeout,
        parallelism,
        prune,
        max_delete,
        refresh,
    )
    outcome = apply_project(
        project_dir(ctx), lambda: load(ctx, reporter), reporter, options, _confirmed
    )
    if outcome is None:
        return  # the user said no
    reporter.outcome(outcome)
    if outcome.fatal is not None:
        raise outcome.fatal
    # An item left in the lockfile because a file of it could not go is a prune not done.
    unfinished = outcome.failed or outcome.interrupted or outcome.unresolved or outcome.unpruned
    sys.exit(1 if unfinished else 0)


def _max_delete(value: str) -> str:
    """Checked as the options are read, so a bad value fails even when nothing would go."""
    try:
        parse_limit(value)
    except VoxformError as exc:
        raise click.BadParameter(str(exc).removeprefix(f"--max-delete {value!r}: ")) from None
    return value


def _confirmed() -> bool:
    """Ask on a terminal; refuse without one (CI must say --yes)."""
    if not sys.stdin.isatty():
        raise VoxformError("refusing to apply without confirmation: pass --yes (no terminal)")
    return click.confirm("Apply these changes?", default=False)
