"""`voxform validate`: schema, references, paths, SSML and limits, every error at once."""

from __future__ import annotations

import sys

import click

from voxform.cli.common import format_options, handle_errors, reporter_for, workspace
from voxform.cli.main import cli


@cli.command()
@format_options
@click.pass_context
@handle_errors(reporter_for)
def validate(ctx: click.Context, fmt: str | None, as_json: bool) -> None:
    """Check the manifests, templates and texts; exit 1 when anything is wrong."""
    reporter = reporter_for(fmt, as_json)
    ws = workspace(ctx)
    reporter.problems(ws.problems)
    if not ws.problems and not (as_json or fmt == "json"):
        click.echo(f"Valid: {len(ws.rendered)} items in {len(ws.project.files)} manifest file(s).")
    sys.exit(1 if ws.problems else 0)
