"""`voxform pull`: ICE items' audio from OSS into the project, to listen to."""

from __future__ import annotations

import sys
from contextlib import ExitStack

import click

from voxform.cli.common import load, profile_option, project_dir, reporting, select_option
from voxform.providers.credentials import load_credentials
from voxform.pull.run import Puller, client_for
from voxform.pull.wanted import DEFAULT_FOLDER, choose, project_folder
from voxform.report import Reporter
from voxform.state.pulled import PULL_RECORD, PullRecord

SHOWN = 10  # ids named in a warning, at most


@click.command()
@click.argument("directory", required=False, metavar="[DIR]")
@select_option
@profile_option
@click.pass_context
@reporting
def pull(
    ctx: click.Context,
    reporter: Reporter,
    directory: str | None,
    select: tuple[str, ...],
    profile: str | None,
) -> None:
    """Download ICE items' audio from OSS into the project, CRC-64 verified.

    Each finished item of an ICE target goes to DIR (a folder of the project; default
    build/TARGET/) under its key below the target's prefix, ID.EXT. A file already there
    and unchanged (by a record in .voxform/ and one listing of the bucket) is not
    downloaded again; a download whose bytes are not the object's is refused and never
    kept. Exit 1 when any item could not be had.
    """
    loaded = load(ctx, reporter)
    loaded.require_valid()
    root = loaded.project.root
    folder = None if directory is None else project_folder(root, project_dir(ctx), directory)
    targets = loaded.project.targets
    choice = choose(loaded.rendered, loaded.lock, targets, select=select, folder=folder)
    _warn(reporter, choice.unfinished, "not finished in voxform.lock (apply makes them)")
    _warn(
        reporter,
        choice.moved,
        "their bucket, key or format changed since their audio was made (apply first)",
    )
    if not choice.wanted:
        local = f" ({len(choice.local)} on local targets, whose audio is in the project)"
        reporter.info("Nothing to pull" + (local if choice.local else "") + ".")
        return
    used = sorted({w.target for w in choice.wanted})
    folders = [folder] if folder is not None else [f"{DEFAULT_FOLDER}/{t}" for t in used]
    credentials = load_credentials(profile)
    record = PullRecord(loaded.journal_path.parent / PULL_RECORD, root)
    with ExitStack() as stack:
        clients = {t: stack.enter_context(client_for(targets[t], credentials)) for t in used}
        puller = Puller(record, reporter, clients, targets)
        try:
            outcome = puller.run(choice.wanted)
        finally:
            record.save()
    reporter.pulled(outcome, folders)
    if outcome.fatal is not None:
        raise outcome.fatal
    sys.exit(1 if outcome.failed else 0)


def _warn(reporter: Reporter, ids: tuple[str, ...], why: str) -> None:
    if ids:
        shown = ", ".join(ids[:SHOWN]) + (" ..." if len(ids) > SHOWN else "")
        reporter.warning(f"not pulled: {len(ids)} item(s) {why}: {shown}")
