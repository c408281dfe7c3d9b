"""Commands that start at once: `--version`, `--help` and completion of a command's name
import no command, and the help they show is the commands' own.

The import checks run the real entry point in a fresh child process and read `sys.modules`
as it exits, so a module-level import that drags a command (or httpx, jsonschema, ...) back
into start-up fails here, whatever the machine's speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from voxform.cli.group import COMMANDS, cli, load_command

CLI_DIR = Path(__file__).resolve().parents[2] / "src" / "voxform" / "cli"
START_UP = ("voxform", "voxform.cli", "voxform.cli.main", "voxform.cli.group")
HEAVY = (
    "httpx",
    "httpcore",
    "jsonschema",
    "referencing",
    "jinja2",
    "markdown_it",
    "sentencex",
    "ruamel",
    "yaml",
    "lameenc",
    "espeakng_loader",
)
MODULES_AT_EXIT = """\
import atexit, sys
def tell():
    imported = (name for name, module in sys.modules.items() if module is not None)
    sys.stderr.write("MODULES " + " ".join(sorted(imported)) + "\\n")
atexit.register(tell)
sys.argv[0] = "voxform"
from voxform.cli.main import main
main()
"""


def modules_imported(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The modules a fresh `voxform ARGS` has imported when it exits, and its standard
    output (or, when it exits 2, its usage message)."""
    done = subprocess.run(
        [sys.executable, "-c", MODULES_AT_EXIT, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    lines = done.stderr.splitlines()
    listed = [line for line in lines if line.startswith("MODULES ")]
    assert len(listed) == 1, done.stderr
    assert done.returncode in (0, 1, 2), done.stderr
    told = (
        done.stdout
        if done.returncode != 2
        else "\n".join(line for line in lines if line not in listed)
    )
    return set(listed[0].split()[1:]), told


def heavy_or_commands(modules: set[str]) -> list[str]:
    """What start-up must not import: voxform beyond the entry point, and heavy packages."""
    return sorted(
        name
        for name in modules
        if (name.split(".")[0] == "voxform" and name not in START_UP) or name.split(".")[0] in HEAVY
    )


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-h"]])
def test_version_and_help_import_no_command_and_no_heavy_package(args: list[str]) -> None:
    modules, out = modules_imported(*args)
    assert heavy_or_commands(modules) == []
    assert "voxform.cli.group" in modules  # the group did run
    if args == ["--version"]:
        assert out == "voxform, version 0.1.0\n"
    else:
        assert "Commands:" in out


@pytest.mark.parametrize(("args", "told"), [([], "Commands:"), (["--bogus"], "--bogus")])
def test_a_usage_error_imports_no_command_and_no_heavy_package(args: list[str], told: str) -> None:
    modules, out = modules_imported(*args)
    assert told in out
    commands = {f"voxform.cli.{name}" for name in COMMANDS}
    assert [name for name in heavy_or_commands(modules) if name.split(".")[0] != "voxform"] == []
    assert sorted(commands & modules) == []


def test_running_a_command_imports_that_command_and_no_other(quickstart: Path) -> None:
    modules, out = modules_imported("-C", str(quickstart), "validate")
    assert out.startswith("Valid: ")
    # The check above sees what it looks for: here a command and its packages come in.
    assert "voxform.cli.validate" in modules
    assert "jsonschema" in modules
    others = {f"voxform.cli.{name}" for name in COMMANDS} - {"voxform.cli.validate"}
    assert sorted(others & modules) == []
    # Nor what only other commands need: the HTTP client, the engine, the executor.
    unused = ("httpx", "voxform.engine", "voxform.emulator", "voxform.apply.run")
    assert [name for name in modules if name.startswith(unused)] == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_commands_help_imports_that_command_alone(name: str) -> None:
    modules, out = modules_imported(name, "--help")
    assert f"voxform {name} [OPTIONS]" in out
    commands = {f"voxform.cli.{other}" for other in COMMANDS}
    assert sorted(commands & modules) == [f"voxform.cli.{name}"]
    if name in ("init", "unlock"):  # they load no project: no loader, no renderer
        assert [m for m in modules if m.split(".")[0] in HEAVY] == []


def test_completing_a_command_name_imports_no_command() -> None:
    env = {**os.environ, "_VOXFORM_COMPLETE": "bash_complete", "COMP_WORDS": "voxform p"}
    modules, out = modules_imported(env={**env, "COMP_CWORD": "1"})
    assert out.split() == ["plain,plan", "plain,pull"]
    assert heavy_or_commands(modules) == []


def test_completing_a_commands_options_loads_that_command() -> None:
    env = {**os.environ, "_VOXFORM_COMPLETE": "bash_complete", "COMP_WORDS": "voxform plan --se"}
    modules, out = modules_imported(env={**env, "COMP_CWORD": "2"})
    assert out.split() == ["plain,--select"]
    assert "voxform.cli.plan" in modules


def test_each_short_help_in_the_table_is_the_commands_own() -> None:
    for name, short in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert not command.hidden
        assert command.get_short_help_str(limit=10_000) == short, name


def test_every_command_module_is_in_the_table() -> None:
    shared = {"__init__", "common", "group", "main"}
    modules = {path.stem for path in CLI_DIR.glob("*.py")} - shared
    assert modules == set(COMMANDS)


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_help_lists_what_the_commands_themselves_would_say(width: int) -> None:
    eager = click.Group(
        name="voxform",
        commands={name: load_command(name) for name in COMMANDS},
        params=cli.params,
        help=cli.help,
        context_settings=cli.context_settings,
    )
    # Contexts as the command line makes them (with the group's settings): click keeps the
    # help option a command first made, so one bare context would differ from the other.
    settings = {**cli.context_settings, "terminal_width": width}
    expected = eager.get_help(click.Context(eager, info_name="voxform", **settings))
    shown = cli.get_help(click.Context(cli, info_name="voxform", **settings))
    assert shown == expected
    for name in COMMANDS:
        assert f"\n  {name} " in shown


def test_an_unknown_command_is_refused_with_the_closest_name() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "voxform", "plna"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "No such command 'plna'." in done.stderr
    if hasattr(click.exceptions, "NoSuchCommand"):  # click 8.4 and later suggest a name
        assert "Did you mean 'plan'?" in done.stderr


def test_a_commands_own_help_is_its_own() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "voxform", "validate", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: python -m voxform validate [OPTIONS]")
    assert COMMANDS["validate"] in done.stdout
    assert "--format" in done.stdout


def test_the_http_client_comes_without_its_command_line_tool() -> None:
    # httpx imports its own command-line client (rich's console, pygments) whenever they are
    # installed; voxform never runs it, and a plan paid 40-90 ms for it.
    code = (
        "import sys, voxform.providers.oss_client, httpx\n"
        "print(sorted(m for m in ('httpx._main', 'rich', 'pygments') if sys.modules.get(m)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
