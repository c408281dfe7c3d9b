"""`voxform plan`: what apply would synthesize, and why."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import click

from voxform.apply.held import ReadAhead
from voxform.cli.common import (
    load,
    profile_option,
    refresh_options,
    reporting,
    selection_options,
)
from voxform.files import write_atomic
from voxform.plan.saved import save
from voxform.report import Reporter


@click.command()
@selection_options
@refresh_options
@profile_option
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes.")
@click.option("--show-unchanged", is_flag=True, help="List unchanged items too.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also save the plan to FILE, for `voxform apply FILE`.",
)
@click.pass_context
@reporting
def plan(
    ctx: click.Context,
    reporter: Reporter,
    select: tuple[str, ...],
    replace: tuple[str, ...],
    detailed_exitcode: bool,
    show_unchanged: bool,
    out: Path | None,
    refresh: bool,
    profile: str | None,
) -> None:
    """Show which items apply would synthesize and which input changed."""
    loaded = load(ctx, reporter)
    if ctx.obj["lockfile"] is not None and not loaded.lock_path.exists():
        reporter.warning(
            f"there is no lockfile at {loaded.lock_path}: every item is planned as new "
            "(a mistyped --lockfile?)"
        )
    loaded.require_valid()  # a manifest error is told before any bucket is read
    ahead = ReadAhead(reporter, refresh=refresh, select=select, profile=profile)
    ahead.start(loaded.project, loaded.lock)  # the buckets answer while the files are checked
    from voxform.cli.main import keep
    from voxform.project import collector_paused  # loaded: `plan --help` imports none of it

    # Objects per file and per item, all kept to the end: the collector, paused, is given
    # none of them (frozen, as `load` freezes its own), or its first pass after the plan
    # would walk them all to free nothing.
    with collector_paused():
        drift = loaded.drift() if refresh else None
        held = ahead.result(loaded)
        result = loaded.plan(
            select=select, replace=replace, held=held, refresh=refresh, drift=drift
        )
        gc.freeze()
    keep(result)  # 100,000 changes, freed by the process's end, not one by one (cli/main.py)
    if out is not None:
        saved = loaded.saved(result, select, replace, refresh=held is not None)
        write_atomic(out, save(result, saved))
    reporter.plan(result, show_unchanged=show_unchanged)
    sys.exit(2 if detailed_exitcode and result.pending else 0)
