"""`voxform apply`: carry out the plan and record every job in the lockfile."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voxform.apply.executor import Executor, Outcome
from voxform.cli.common import format_options, handle_errors, reporter_for, workspace
from voxform.cli.main import cli
from voxform.cli.plan import selection_options
from voxform.errors import VoxformError
from voxform.providers.registry import open_providers, provider_for
from voxform.report import Reporter
from voxform.state.lease import lease


@cli.command()
@selection_options
@click.option(
    "-y", "--yes", "--auto-approve", "yes", is_flag=True, help="Do not ask for confirmation."
)
@click.option(
    "--profile",
    envvar="ALIBABA_CLOUD_PROFILE",
    default=None,
    help="aliyun CLI profile for ice targets (default: environment variables, then current).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(0),
    default=0,
    metavar="SECONDS",
    help="Wait this long for another apply to finish (default: fail at once).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, 256),
    default=10,
    show_default=True,
    help="Items in flight at once.",
)
@format_options
@click.pass_context
@handle_errors(reporter_for)
def apply(
    ctx: click.Context,
    select: tuple[str, ...],
    replace: tuple[str, ...],
    yes: bool,
    profile: str | None,
    lock_timeout: float,
    parallelism: int,
    fmt: str | None,
    as_json: bool,
) -> None:
    """Synthesize what changed and record the results in voxform.lock."""
    reporter = reporter_for(fmt, as_json)
    with lease(Path(ctx.obj["directory"]), timeout=lock_timeout):
        outcome = _apply(
            ctx, reporter, select, replace, yes, profile, parallelism, as_json or fmt == "json"
        )
    if outcome is None:
        return
    if outcome.fatal is not None:
        if outcome.finished or outcome.failed:
            reporter.outcome(outcome)
        raise outcome.fatal
    reporter.outcome(outcome)
    sys.exit(1 if outcome.failed or outcome.interrupted else 0)


def _apply(
    ctx: click.Context,
    reporter: Reporter,
    select: tuple[str, ...],
    replace: tuple[str, ...],
    yes: bool,
    profile: str | None,
    parallelism: int,
    machine: bool,
) -> Outcome | None:
    """Plan, confirm and execute under the lease; None when there is nothing to do."""
    ws = workspace(ctx)
    result = ws.plan(select=select, replace=replace)
    if not machine:  # with --json, apply prints one document: the outcome
        reporter.plan(result, show_unchanged=False)
    if not result.pending:
        if machine:
            reporter.outcome(Outcome())
        return None
    if not yes:
        if not sys.stdin.isatty():
            raise VoxformError("refusing to apply without confirmation: pass --yes (no terminal)")
        if not click.confirm("Apply these changes?", default=False):
            reporter.info("Apply cancelled.")
            return None
    targets = {c.target for c in result.pending if c.target}
    with open_providers(ws.project, targets, profile=profile) as providers:
        executor = Executor(
            ws.lock_path,
            ws.lock,
            providers,
            reporter,
            parallelism=parallelism,
            rate_limits={n: ws.project.targets[n].rate_limit for n in providers},
            root=ws.project.root,
            subtitle_dirs={n: provider_for(ws.project.targets[n]).subtitle_dir(ws.project.targets[n]) for n in providers},
        )
        return executor.run(result)
