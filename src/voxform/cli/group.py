"""The `voxform` command group: global options, then one module per command."""

from __future__ import annotations

import os
from pathlib import Path

import click

from voxform import __version__
from voxform.cli.apply import apply
from voxform.cli.emulator import emulator
from voxform.cli.init import init
from voxform.cli.plan import plan
from voxform.cli.refresh import refresh
from voxform.cli.render import render
from voxform.cli.schema import schema
from voxform.cli.status import status
from voxform.cli.unlock import unlock
from voxform.cli.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voxform")
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Run as if started in this project directory.",
)
@click.option(
    "--lockfile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Lockfile path (default: voxform.lock in the project).",
)
@click.pass_context
def cli(ctx: click.Context, directory: Path, lockfile: Path | None) -> None:
    """Declarative narration: validate, plan and apply text-to-speech.

    Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    ctx.obj = {"directory": directory, "lockfile": lockfile}
    if os.environ.get("NO_COLOR"):
        ctx.color = False


for command in (init, validate, render, plan, apply, refresh, status, unlock, schema, emulator):
    cli.add_command(command)
