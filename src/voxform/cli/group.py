"""The `voxform` command group: global options, then one module per command, each imported
only when that command runs.

`voxform --version`, `--help` and shell completion of a command's name import none of the
commands (nor what they import: the project loader, the executor, the emulator): their
names and one-line help come from `COMMANDS`, which a test holds equal to each command's
own help.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.formatting import HelpFormatter

from voxform import __version__

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

# Each command's name (also its module, voxform.cli.NAME, and the function in it) and its
# short help: the first sentence of its docstring, as `voxform --help` lists it.
COMMANDS: dict[str, str] = {
    "init": "Create a voxform project in DIRECTORY (default: -C, or here).",
    "validate": "Check the manifests, templates and texts; exit 1 when anything is wrong.",
    "render": "Print the SSML and configs that ITEM_ID would be submitted with.",
    "plan": "Show which items apply would synthesize and which input changed.",
    "apply": "Synthesize what changed and record the results in voxform.lock.",
    "refresh": "Poll the pending jobs in voxform.lock and record their results; send nothing.",
    "status": (
        "Summarize voxform.lock: items per state and target, characters, pending and failed."
    ),
    "pull": "Download ICE items' audio from OSS into the project, CRC-64 verified.",
    "review": "Write a page to hear each changed item as recorded now and as previewed after.",
    "url": "Print a presigned GET URL of ID's audio object in OSS (default: valid 1 hour).",
    "unlock": "Release the apply lease ID (named by the error of an apply that found it held).",
    "schema": "Print the manifest JSON Schema (draft 2020-12).",
    "emulator": "Serve ICE's audio jobs and OSS's objects locally, as the real services do.",
}

COMPLETION_HELP_LIMIT = 45  # what click's own completion passes to get_short_help_str


def load_command(name: str) -> click.Command:
    """The command `name` from its module, voxform.cli.NAME (imported now)."""
    command = getattr(importlib.import_module(f"voxform.cli.{name}"), name)
    if not isinstance(command, click.Command):
        raise TypeError(f"voxform.cli.{name}.{name} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands are named in `COMMANDS` and imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load_command(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            # An unknown command: click's "did you mean" looks among the commands loaded, so
            # load them all (only on this way out) and let click tell it again.
            for name in COMMANDS:
                self.get_command(ctx, name)
            return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: HelpFormatter) -> None:
        """The commands and their short help, from the table: none is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._short_help(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names from the table (none imported), then the group's options."""
        from click.shell_completion import CompletionItem

        results = [
            CompletionItem(name, help=self._short_help(name, COMPLETION_HELP_LIMIT))
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results

    def _short_help(self, name: str, limit: int) -> str:
        """A command's one line, cut to `limit` as click cuts it; from the table when named
        there, else (a command added by hand) from the command itself."""
        # click's own cut, applied to the table's line by a stand-in command
        command = click.Command(name, help=COMMANDS[name]) if name in COMMANDS else None
        return (command or self.commands[name]).get_short_help_str(limit)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voxform")
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Run as if started in this project directory.",
)
@click.option(
    "--lockfile",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Lockfile path (default: voxform.lock in the project).",
)
@click.pass_context
def cli(ctx: click.Context, directory: Path, lockfile: Path | None) -> None:
    """Declarative narration: validate, plan and apply text-to-speech.

    Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    ctx.obj = {"directory": directory, "lockfile": lockfile}
    if os.environ.get("NO_COLOR"):
        ctx.color = False
