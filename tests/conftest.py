"""Shared fixtures: real projects in tmp_path, the real CLI through click's runner."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from voxform.cli.main import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

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


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    """A private copy of examples/quickstart, without build output or lockfile."""
    target = tmp_path / "quickstart"
    shutil.copytree(
        EXAMPLES / "quickstart", target, ignore=shutil.ignore_patterns("build", "voxform.lock")
    )
    return target


@pytest.fixture
def voxform() -> Runner:
    """Run the real CLI in-process: voxform(project_dir, "plan", "--json")."""

    def run(directory: Path, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["-C", str(directory), *args], input=input)

    return run
