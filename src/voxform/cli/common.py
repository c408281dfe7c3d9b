"""What every command shares: the project, the output format, errors to exit codes."""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from voxform.cli.main import quiet_stdout
from voxform.errors import ManifestError, VoxformError
from voxform.report import FORMATS, Reporter, make_reporter

if TYPE_CHECKING:
    from voxform.project import LoadedProject

Command = Callable[..., None]


def reporting(func: Command) -> Command:
    """`--format text|json|github` (or `--json`) and one reporter for the whole command,
    passed as `reporter=`; voxform errors become one message and exit 1, nothing else
    reaches the user."""

    @functools.wraps(func)
    def wrapper(*args: Any, fmt: str | None, as_json: bool, **kwargs: Any) -> None:
        reporter = make_reporter("json" if as_json else fmt)
        try:
            func(*args, reporter=reporter, **kwargs)
            return
        except BrokenPipeError:  # `voxform plan | head`: the reader has all it wanted
            quiet_stdout()
        except ManifestError as exc:
            reporter.problems(exc.problems)
        except VoxformError as exc:
            reporter.error(str(exc))
        except OSError as exc:
            reporter.error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        finally:
            reporter.finish()
        sys.exit(1)

    wrapper = click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json.")(
        wrapper
    )
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format (default: text, or github inside GitHub Actions).",
    )(wrapper)


def select_option(func: Command) -> Command:
    """--select GLOB (repeatable), shared by plan, apply, pull and review."""
    return click.option(
        "--select",
        "select",
        multiple=True,
        metavar="GLOB",
        help="Only items whose id matches GLOB (repeatable).",
    )(func)


def selection_options(func: Command) -> Command:
    """--select and --replace, shared by plan and apply."""
    func = click.option(
        "--replace",
        "replace",
        multiple=True,
        metavar="ID",
        help="Synthesize ID again even if nothing changed (repeatable).",
    )(func)
    return select_option(func)


def expires_option(help: str) -> Callable[[Command], Command]:
    """--expires SECONDS of a presigned URL (default an hour, at most OSS's 7 days), shared
    by url and review."""
    from voxform.oss.signing import MAX_EXPIRES

    return click.option(
        "--expires",
        type=click.IntRange(1, MAX_EXPIRES),
        default=3600,
        show_default=True,
        metavar="SECONDS",
        help=help,
    )


def run_options(func: Command) -> Command:
    """--profile and --lock-timeout, shared by the commands that call the service under the
    apply lease (apply, refresh)."""
    func = click.option(
        "--lock-timeout",
        type=click.FloatRange(0),
        default=0,
        metavar="SECONDS",
        help="Wait this long for another apply to finish (default: fail at once).",
    )(func)
    return profile_option(func)


def profile_option(func: Command) -> Command:
    """--profile: the aliyun CLI profile, for every command that reaches ICE or OSS."""
    return click.option(
        "--profile",
        envvar="ALIBABA_CLOUD_PROFILE",
        default=None,
        help="aliyun CLI profile for ice targets and their buckets (default: environment "
        "variables, then current).",
    )(func)


def refresh_options(func: Command) -> Command:
    """--refresh[=BOOL] and --no-refresh, shared by plan and apply: whether the targets are
    read for what the files and objects the lockfile names hold now (passed as `refresh=`)."""

    @functools.wraps(func)
    def wrapper(*args: Any, refresh: bool, no_refresh: bool, **kwargs: Any) -> None:
        func(*args, refresh=refresh and not no_refresh, **kwargs)

    wrapper = click.option(
        "--no-refresh",
        "no_refresh",
        is_flag=True,
        help="Do not read the targets (buckets, output files): plan offline, from the "
        "lockfile alone.",
    )(wrapper)
    return click.option(
        "--refresh",
        "refresh",
        type=click.BOOL,
        is_flag=False,
        flag_value="true",
        default="true",
        metavar="[BOOL]",
        help="Read what the targets hold (buckets, output files) before planning (the "
        "default); --refresh=false is --no-refresh.",
    )(wrapper)


def project_dir(ctx: click.Context) -> Path:
    """The project directory named by -C."""
    directory: Path = ctx.obj["directory"]
    return directory


def load(
    ctx: click.Context, reporter: Reporter | None = None, *, check_schema: bool = False
) -> LoadedProject:
    """The project named by -C and --lockfile, loaded and rendered; its warnings go to
    `reporter` when it is valid (`validate` shows them with the errors itself). A manifest
    the schema found valid before is not checked by it again, unless `check_schema`
    (`validate`, whose answer it is)."""
    # Here: the loader, the renderer and what they import are for the commands that load.
    from voxform.aside import wait
    from voxform.cli.main import keep
    from voxform.project import collector_paused, load_project

    # A load makes about ten objects per item, and all of them live to the end of the
    # command: the cyclic collector would walk them again and again as they are made (a
    # second at 100,000 items) and find nothing to free. It is paused while they are made,
    # and they are frozen out of its reach until the command is over (then given back, so
    # that a process running many commands, a test run, frees their cycles).
    with collector_paused():
        try:
            loaded = load_project(
                project_dir(ctx),
                ctx.obj["lockfile"],
                caches_aside=True,
                schema_seen=not check_schema,
            )
        finally:
            gc.freeze()
            ctx.call_on_close(gc.unfreeze)
            ctx.call_on_close(wait)  # the caches it writes beside the command (aside.py)
    keep(loaded)  # freed by the process's end, not object by object (cli/main.py)
    if reporter is not None and not loaded.errors:
        for problem in loaded.warnings:
            reporter.warning(f"{problem.location}: {problem.message}")
    return loaded
