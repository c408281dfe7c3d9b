"""`voxform validate`: schema, references, paths, SSML and limits, every error at once."""

from __future__ import annotations

import sys

import click

from voxform.cli.common import load, reporting
from voxform.report import Reporter


@click.command()
@click.pass_context
@reporting
def validate(ctx: click.Context, reporter: Reporter) -> None:
    """Check the manifests, templates and texts; exit 1 when anything is wrong."""
    loaded = load(ctx, check_schema=True)  # every manifest checked, whatever was seen
    reporter.problems(loaded.problems)
    if not loaded.errors:
        reporter.valid(len(loaded.rendered), len(loaded.project.files))
    sys.exit(1 if loaded.errors else 0)
