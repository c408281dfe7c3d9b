"""The `voxform-validate` pre-commit hook, tried as pre-commit runs it: `pre-commit try-repo`.

try-repo clones this repository and installs voxform into a fresh environment for the hook,
so this takes tens of seconds; both outcomes are checked in one environment's worth of runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_example

REPO = Path(__file__).resolve().parents[2]


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def try_repo(cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(REPO),
            "voxform-validate",
            "--all-files",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="try-repo needs a git checkout")
def test_the_hook_passes_a_valid_project_and_fails_an_invalid_one(tmp_path: Path) -> None:
    project = copy_example("quickstart", tmp_path / "project")
    git(project, "init", "-q")
    git(project, "add", ".")
    passed = try_repo(project, tmp_path / "pre-commit")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "voxform validate" in passed.stdout and "Passed" in passed.stdout

    manifest = project / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("voice: narrator", "voice: narator"))
    git(project, "add", ".")
    failed = try_repo(project, tmp_path / "pre-commit")
    assert failed.returncode == 1
    assert "Failed" in failed.stdout
    assert "voxform.yaml:12:" in failed.stdout and "did you mean 'narrator'" in failed.stdout
