"""`voxform plan`: what apply would synthesize, and why."""

from __future__ import annotations

import sys

import click

from voxform.cli.common import format_options, handle_errors, reporter_for, workspace
from voxform.cli.main import cli


def selection_options(func: click.decorators.FC) -> click.decorators.FC:
    """--select and --replace, shared by plan and apply."""
    func = click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="ID",
        help="Synthesize ID again even if nothing changed (repeatable).",
    )(func)
    return click.option(
        "--select",
        "select",
        multiple=True,
        metavar="GLOB",
        help="Only items whose id matches GLOB (repeatable).",
    )(func)


@cli.command()
@selection_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes.")
@click.option("--show-unchanged", is_flag=True, help="List unchanged items too.")
@format_options
@click.pass_context
@handle_errors(reporter_for)
def plan(
    ctx: click.Context,
    select: tuple[str, ...],
    replace: tuple[str, ...],
    detailed_exitcode: bool,
    show_unchanged: bool,
    fmt: str | None,
    as_json: bool,
) -> None:
    """Show which items apply would synthesize and which input changed."""
    ws = workspace(ctx)
    result = ws.plan(select=select, replace=replace)
    reporter_for(fmt, as_json).plan(result, show_unchanged=show_unchanged)
    sys.exit(2 if detailed_exitcode and result.pending else 0)
