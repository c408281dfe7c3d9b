"""`voxform plan`: what apply would synthesize, and why."""

from __future__ import annotations

import sys

import click

from voxform.cli.common import load, reporting, selection_options
from voxform.report import Reporter


@click.command()
@selection_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes.")
@click.option("--show-unchanged", is_flag=True, help="List unchanged items too.")
@click.pass_context
@reporting
def plan(
    ctx: click.Context,
    reporter: Reporter,
    select: tuple[str, ...],
    replace: tuple[str, ...],
    detailed_exitcode: bool,
    show_unchanged: bool,
) -> None:
    """Show which items apply would synthesize and which input changed."""
    result = load(ctx).plan(select=select, replace=replace)
    reporter.plan(result, show_unchanged=show_unchanged)
    sys.exit(2 if detailed_exitcode and result.pending else 0)
