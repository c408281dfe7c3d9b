"""A FIFO, a device or a huge file planted where voxform reads: one sentence, never a hang,
never memory filled. Each command runs in a subprocess bounded by a timeout, as a safety net
only: every case answers at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_example


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example("quickstart", tmp_path / "quickstart")


def plant(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


@pytest.mark.parametrize("kind", ["fifo", "zero"])
@pytest.mark.parametrize(
    ("where", "command", "said"),
    [
        ("voxform.lock", "plan", "voxform.lock is not a regular file"),
        (".voxform/voxform.lock.journal", "plan", "voxform.lock.journal is not a regular file"),
        ("texts/lesson-01.md", "validate", "texts/lesson-01.md"),
    ],
)
def test_a_planted_special_file_is_refused_at_once(
    project: Path, kind: str, where: str, command: str, said: str
) -> None:
    plant(project / where, kind)
    done = run(project, command)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert said in done.stdout + done.stderr


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_planted_stat_cache_or_lease_is_only_unreadable(project: Path, kind: str) -> None:
    assert run(project, "apply", "--yes").returncode == 0
    plant(project / ".voxform/stat-cache.json", kind)
    done = run(project, "plan", "--detailed-exitcode")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_special_file_among_globbed_ones_is_passed_over(project: Path, kind: str) -> None:
    plant(project / "texts/chapters/03-extra.md", kind)
    manifest = project / "voxform.yaml"
    manifest.write_text(manifest.read_text() + "include: [more/*.yaml]\n")
    (project / "more").mkdir()
    (project / "more/a.yaml").write_text("items: [{id: extra, text: Hello.}]\n")
    plant(project / "more/b.yaml", kind)
    done = run(project, "validate")
    assert done.returncode == 0, done.stdout + done.stderr  # globs take regular files only


def test_a_text_source_over_the_size_limit_is_refused_by_name(project: Path) -> None:
    with (project / "texts/lesson-01.md").open("w") as handle:
        handle.write("Hello there. " * 800_000)  # 10.4 MB
    done = run(project, "validate")
    assert done.returncode == 1
    assert "texts/lesson-01.md is more than 10,000,000 bytes" in done.stdout


def test_what_the_fuzzer_found_is_one_sentence_each(project: Path) -> None:
    """Cases from bench/fuzz.py that ended in tracebacks: NUL in a path or glob, a glob of
    '.', names of voices and targets that are not strings."""
    (project / "voxform.yaml").write_text(
        "version: 1\n"
        "targets: {true: x, local: {provider: local, path: out}}\n"
        "voices: {n: {voice: siqi}, 1: x, null: y}\n"
        'items: [{id: a, source: "a\\0b.md", target: local, voice: n}]\n'
        'sources: [{id: s, glob: "."}, {id: t, glob: "x\\0*.md"}]\n'
    )
    done = run(project, "validate")
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "'a\\x00b.md' has a NUL character" in done.stdout
    assert "glob '.' cannot be used: it names no files" in done.stdout
    assert "expected a string, got integer 1" in done.stdout


def test_a_long_text_through_wordwrap_is_refused_at_compile_time(project: Path) -> None:
    (project / "templates/plain.ssml.j2").write_text("<speak>{{ text|wordwrap(1) }}</speak>\n")
    done = run(project, "validate")
    assert done.returncode == 1
    assert "the filter 'wordwrap' is not available" in done.stdout
