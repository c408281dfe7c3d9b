"""What every command shares: the workspace, the output format, errors to exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from voxform.errors import ManifestError, VoxformError
from voxform.report import FORMATS, Reporter, make_reporter
from voxform.workspace import Workspace, open_workspace

P = ParamSpec("P")
R = TypeVar("R")


def format_options(func: Callable[P, R]) -> Callable[P, R]:
    """`--format text|json|github` and its shorthand `--json`."""
    func = click.option("--json", "as_json", is_flag=True, help="Shorthand for --format json.")(
        func
    )
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format (default: text, or github inside GitHub Actions).",
    )(func)


def reporter_for(fmt: str | None, as_json: bool) -> Reporter:
    return make_reporter("json" if as_json else fmt)


def workspace(ctx: click.Context) -> Workspace:
    """The project named by -C and --lockfile, loaded and rendered."""
    directory: Path = ctx.obj["directory"]
    return open_workspace(directory, ctx.obj["lockfile"])


def handle_errors(
    reporter_of: Callable[..., Reporter],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn voxform errors into a clear message and exit 1; nothing else reaches the user."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            reporter = reporter_of(kwargs.get("fmt"), bool(kwargs.get("as_json")))
            try:
                return func(*args, **kwargs)
            except ManifestError as exc:
                reporter.problems(exc.problems)
            except VoxformError as exc:
                reporter.error(str(exc))
            except OSError as exc:
                reporter.error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
            sys.exit(1)

        return wrapper

    return decorate
