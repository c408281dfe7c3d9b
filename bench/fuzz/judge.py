"""Judging a command after it ran: the traceback it printed, what a log reader would see
(forged workflow commands, control characters, plan --json that is not JSON), and the files
it changed outside the project's outputs."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .case import Case
    from .command import Run

TRACEBACK = "Traceback (most recent call last)"
GITHUB_COMMANDS = ("::error", "::warning", "::notice", "::group", "::endgroup", "::debug")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def first_error(text: str) -> str:
    """The first line saying what went wrong, for the --results file."""
    return next((line[:300] for line in text.splitlines() if "error" in line.lower()), "")


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def explain_traceback(text: str) -> str:
    """The exception and the innermost voxform frame of the first traceback in `text`."""
    tail = text[text.rindex(TRACEBACK) :].splitlines()
    frames = [line.strip() for line in tail if line.strip().startswith('File "')]
    ours = [f for f in frames if "/voxform/" in f] or frames
    exception = next((line for line in tail[1:] if line and not line.startswith(" ")), "")
    exception = exception or last_line(text)
    where = re.sub(r'File ".*?/(voxform/[^"]+)"', r"\1", ours[-1]) if ours else ""
    return f"{exception[:240]} [{where}]"


def check_output(run: Run, stdout: str, stderr: str) -> None:
    """Notes on what a log reader would see: forged workflow commands, raw control
    characters, a plan --json that is not one JSON object."""
    logs = stderr if run.command == "plan" else stdout + stderr
    for line in logs.splitlines():
        if line.lstrip().startswith("::") and not line.lstrip().startswith(GITHUB_COMMANDS):
            run.notes.append(f"log injection: line {line[:60]!r}")
            break
    bad = CONTROL.search(logs)
    if bad:
        run.notes.append(f"log injection: raw {bad.group()!r} in output")
    if run.command == "plan" and run.code in (0, 1) and run.outcome.startswith("exit"):
        try:
            if not isinstance(json.loads(stdout), dict):
                raise ValueError("not an object")
        except ValueError as exc:
            run.notes.append(f"bad json: {exc}"[:200])


OUTPUT_DIRS = {"build", "subtitles", ".voxform"}
OUTPUT_SUFFIXES = (".mp3", ".wav", ".pcm", ".srt", ".vtt", ".tmp")


def is_output(relative: tuple[str, ...]) -> bool:
    """Paths (relative to the project) that voxform may write."""
    first = relative[0]
    return (
        first in OUTPUT_DIRS
        or first == "voxform.lock"
        or (len(relative) == 1 and first.startswith(".voxform.lock."))
    )


def snapshot(case: Case) -> dict[str, tuple[object, ...]]:
    """Every entry under the case's root but the project's outputs and the logs."""
    found: dict[str, tuple[object, ...]] = {}
    project = case.project.relative_to(case.root).parts
    for folder, dirs, files in os.walk(case.root):
        here = Path(folder).relative_to(case.root).parts
        if here == ("logs",):
            dirs.clear()
            continue
        outputs = {
            name
            for name in [*dirs, *files]
            if here[: len(project)] == project
            and len(here) + 1 > len(project)
            and is_output((*here, name)[len(project) :])
        }
        dirs[:] = [d for d in dirs if d not in outputs and not Path(folder, d).is_symlink()]
        for name in [*dirs, *files]:
            if name in outputs:
                continue
            parts = (*here, name)
            path = Path(folder, name)
            info = path.lstat()
            key = "/".join(parts)
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                with path.open("rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
                found[key] = ("file", info.st_size, info.st_mtime_ns, info.st_mode, digest)
            elif stat.S_ISDIR(info.st_mode):
                found[key] = ("dir", info.st_mode)
            else:
                found[key] = ("special", info.st_mode)
    return found


def changed(case: Case, before: dict[str, tuple[object, ...]]) -> list[str]:
    after = snapshot(case)
    project = case.project.relative_to(case.root).as_posix() + "/"
    problems = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if (
            old is None
            and key.startswith(project)
            and new is not None
            and (new[0] == "dir" or key.endswith(OUTPUT_SUFFIXES))
        ):
            continue  # audio or subtitles where a (mutated) target puts them
        what = "new" if old is None else "gone" if new is None else "changed"
        problems.append(f"{what}: {key}")
    return problems
