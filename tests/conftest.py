"""Shared fixtures: real projects in tmp_path, the real CLI through click's runner."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

import browser
from voxform.cli.main import cli

# Property tests are judged on what they find, not on how fast examples come: a busy CI
# machine (two cores, other jobs) must not fail them on a deadline or a health check.
settings.register_profile("voxform", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("voxform")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Browser tests (those using tests/review/'s `browser` fixture) collected in this run.
BROWSER_TESTS = pytest.StashKey[int]()


def pytest_report_header() -> str:
    return browser.report()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[BROWSER_TESTS] = sum("browser" in getattr(i, "fixturenames", ()) for i in items)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Also under -q (which hides the header): whether the browser tests ran, and in what.
    Under xdist the workers collect, not this process: the count is not known here then."""
    count = config.stash.get(BROWSER_TESTS, None)
    if count == 0:  # a run of tests without a browser test says nothing of them
        return
    collected = "" if count is None else f" ({count} collected)"
    terminalreporter.write_line(f"{browser.report()}{collected}")


Runner = Callable[..., Result]


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Create each file (dedented) under root."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), "utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """A project directory built from a dict of file contents."""

    def make(files: dict[str, str]) -> Path:
        return write_files(tmp_path / "project", files)

    return make


def copy_example(name: str, target: Path) -> Path:
    """A private copy of examples/NAME with only the files git tracks: never what a user's
    run left there (build/, subtitles/, .voxform/, a lockfile)."""
    source = EXAMPLES / name
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "."],
        cwd=source,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0 and listed.stdout:
        names = [n for n in listed.stdout.decode().split("\0") if n]
    else:  # not a git checkout (an sdist): leave out what runs create
        names = [
            p.relative_to(source).as_posix()
            for p in source.rglob("*")
            if p.is_file()
            and not {"build", "subtitles", ".voxform"} & set(p.relative_to(source).parts)
            and p.name != "voxform.lock"
        ]
    for name_ in names:
        (target / name_).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name_, target / name_)
    return target


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    """A private copy of examples/quickstart as git tracks it."""
    return copy_example("quickstart", tmp_path / "quickstart")


@pytest.fixture
def voxform() -> Runner:
    """Run the real CLI in-process: voxform(project_dir, "plan", "--json")."""

    def run(directory: Path, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["-C", str(directory), *args], input=input)

    return run


def bounded_validate(root: Path) -> tuple[int, dict]:
    """`voxform validate --json` in a child process that may not hang or grow past 2 GB."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(root), "validate", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def one_error(result: Result, *needles: str) -> str:
    """The one `error:` line of a command refused before it started, holding every needle."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]
