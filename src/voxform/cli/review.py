"""`voxform review`: a static page to hear what a change's items sound like now and after."""

from __future__ import annotations

from pathlib import Path

import click

from voxform.cli.common import (
    expires_option,
    load,
    profile_option,
    project_dir,
    refresh_options,
    reporting,
    select_option,
)
from voxform.report import Reporter


@click.command()
@click.option(
    "--base",
    "base",
    default=None,
    metavar="REF",
    help="Compare with the project at git commit REF (read from git objects; the working "
    "tree is not touched). Default: the lockfile.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write the page into DIR (default: build/review/ in the project).",
)
@select_option
@expires_option("How long the presigned URLs of recorded ICE audio work.")
@refresh_options
@profile_option
@click.pass_context
@reporting
def review(
    ctx: click.Context,
    reporter: Reporter,
    base: str | None,
    out: Path | None,
    select: tuple[str, ...],
    expires: int,
    refresh: bool,
    profile: str | None,
) -> None:
    """Write a page to hear each changed item as recorded now and as previewed after.

    The page (index.html, with its audio and subtitles beside it) needs no server and
    loads nothing from elsewhere but presigned audio URLs. Previews are spoken by the local
    engine; nothing is submitted or billed.
    """
    from voxform.review.collect import Options, collect
    from voxform.review.folder import PageFiles, page_folder
    from voxform.review.page import write_page

    loaded = load(ctx, reporter)
    loaded.require_valid()
    root = loaded.project.root
    folder, trusted = page_folder(root, project_dir(ctx), out)
    trusted.mkdir(parents=True, exist_ok=True)
    options = Options(base, select, expires, refresh, profile)
    with PageFiles(folder, trusted) as files:
        collected = collect(loaded, options, files, reporter)
        page = write_page(collected.review, folder)
        files.prune()
    summary = collected.review.summary()
    kinds = ", ".join(
        f"{summary[a]} {a}"
        for a in ("create", "update", "copy", "retry", "resume", "delete")
        if summary.get(a)
    )
    reporter.info(
        f"Review written to {page}\n"
        f"{summary['items']} changed item(s){f' ({kinds})' if kinds else ''}, "
        f"{summary['billed_characters']} billed character(s), {summary['minutes']} min after; "
        f"previews: {collected.synthesized} synthesized, {collected.cached} from cache"
        + (f"; {collected.fetched} recorded object(s) read" if collected.fetched else "")
    )
