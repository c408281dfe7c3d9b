"""`voxform render ID`: the exact request an item would send."""

from __future__ import annotations

import click

from voxform.cli.common import load, reporting
from voxform.errors import ManifestError, VoxformError, did_you_mean
from voxform.providers.registry import provider_for
from voxform.report import Reporter


@click.command()
@click.argument("item_id")
@click.pass_context
@reporting
def render(ctx: click.Context, reporter: Reporter, item_id: str) -> None:
    """Print the SSML and configs that ITEM_ID would be submitted with."""
    loaded = load(ctx, reporter)
    by_id = {r.id: r for r in loaded.rendered}
    if item_id not in by_id:
        if loaded.problems:
            mine = [p for p in loaded.problems if p.item == item_id or f"'{item_id}'" in p.message]
            raise ManifestError(mine or loaded.problems)
        raise VoxformError(f"no item {item_id!r}{did_you_mean(item_id, by_id)}")
    rendered = by_id[item_id]
    target = loaded.project.targets[rendered.item.settings.target]
    reporter.request(item_id, provider_for(target).describe(target, rendered.request))
