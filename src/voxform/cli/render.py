"""`voxform render ID`: the exact request an item would send."""

from __future__ import annotations

import click

from voxform.cli.common import format_options, handle_errors, reporter_for, workspace
from voxform.cli.main import cli
from voxform.errors import ManifestError, VoxformError
from voxform.manifest.schema import suggest


@cli.command()
@click.argument("item_id")
@format_options
@click.pass_context
@handle_errors(reporter_for)
def render(ctx: click.Context, item_id: str, fmt: str | None, as_json: bool) -> None:
    """Print the SSML and configs that ITEM_ID would be submitted with."""
    ws = workspace(ctx)
    by_id = {r.id: r for r in ws.rendered}
    if item_id not in by_id:
        if ws.problems:
            mine = [p for p in ws.problems if f"'{item_id}'" in p.message]
            raise ManifestError(mine or ws.problems)
        raise VoxformError(f"no item {item_id!r}{suggest(item_id, list(by_id))}")
    reporter_for(fmt, as_json).request(by_id[item_id])
