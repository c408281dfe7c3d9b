"""A quickstart in a git repository, applied and committed, then changed as a reviewer would
see it: one text edited, one lexicon entry edited, one item deleted."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from conftest import copy_example
from voxform.cli.main import cli

# The three changes, and the items they touch: the lexicon's SQL reads in `welcome` and in
# `lesson-01`, whose text is the one edited; `guest-tip` is deleted.
CHANGED = {"welcome": "update", "lesson-01": "update", "guest-tip": "delete"}
OLD_RULE, NEW_RULE = "alias: sequel", "alias: S Q L"
OLD_LINE, NEW_LINE = "Each table has rows and columns.", "Each table has rows, columns and names."


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Review", "-c", "user.email=review@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"},
    )  # fmt: skip
    return done.stdout


def applied_in_git(folder: Path) -> Path:
    """The quickstart (git-tracked files only) in `folder`, applied, its lockfile committed."""
    root = copy_example("quickstart", folder / "quickstart")
    git(root, "init", "-q", "-b", "main")
    result = CliRunner().invoke(cli, ["-C", str(root), "apply", "--yes"])
    assert result.exit_code == 0, result.output
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "narration")
    return root


def copy_of(template: Path, folder: Path) -> Path:
    """A private copy of an applied project, its repository and its audio with it."""
    return Path(shutil.copytree(template, folder / template.name, symlinks=True))


def change(root: Path) -> None:
    """Edit one text and one lexicon entry, delete one item."""
    manifest = root / "voxform.yaml"
    text = manifest.read_text("utf-8")
    assert OLD_RULE in text
    text = text.replace(OLD_RULE, NEW_RULE)
    text, deleted = re.subn(r"  - id: guest-tip\n(?:    .*\n)+", "", text)
    assert deleted == 1
    manifest.write_text(text, "utf-8")
    lesson = root / "texts/lesson-01.md"
    body = lesson.read_text("utf-8")
    assert OLD_LINE in body
    lesson.write_text(body.replace(OLD_LINE, NEW_LINE), "utf-8")


def tree_state(root: Path) -> dict[str, int]:
    """Every file of the work tree and its modification time in nanoseconds, but for git's
    own and what a review writes (its page, and voxform's caches in .voxform/)."""
    return {
        name: p.stat().st_mtime_ns
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not (name := p.relative_to(root).as_posix()).startswith((".git/", ".voxform/"))
        and not name.startswith("build/review/")
    }
