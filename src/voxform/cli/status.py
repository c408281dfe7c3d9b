"""`voxform status`: what the lockfile records, per state and target, and what is open."""

from __future__ import annotations

import click

from voxform.cli.common import load, reporting
from voxform.report import Reporter
from voxform.state.summary import summarize


@click.command()
@click.pass_context
@reporting
def status(ctx: click.Context, reporter: Reporter) -> None:
    """Summarize voxform.lock: items per state and target, characters, pending and failed."""
    loaded = load(ctx)  # replays what a crashed apply journaled
    targets = {r.id: r.item.settings.target for r in loaded.rendered}
    reporter.status(summarize(loaded.lock, targets), str(loaded.lock_path))
