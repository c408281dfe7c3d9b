"""Work set aside (voxform/aside.py) runs in a forked process that `wait` waits for; a
command's caches are written that way, whole by the time the command is over."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voxform.aside import aside, wait

MANIFEST = """
version: 1
targets: {local: {provider: local, path: out}}
voices: {n: {voice: siqi}}
defaults: {voice: n}
sources:
  - {id: s, glob: "texts/*.md", split: paragraph}
"""


def test_set_aside_work_runs_in_another_process_and_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("threading.active_count", lambda: 1)  # xdist's threads hold no lock
    done = tmp_path / "done"
    aside(lambda: 1 // 0, lambda: done.write_text("never"))  # a failure ends the child only
    aside(lambda: done.write_text(str(os.getpid())))
    wait()
    assert done.read_text() not in ("never", str(os.getpid()))


def test_work_set_apart_runs_in_processes_of_its_own_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("threading.active_count", lambda: 1)  # xdist's threads hold no lock
    first, second = tmp_path / "first", tmp_path / "second"

    def waits_for_the_second() -> None:  # done only if the second runs meanwhile
        deadline = time.monotonic() + 30
        while not second.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        first.write_text(f"{os.getpid()} {second.exists()}")

    aside(waits_for_the_second, lambda: second.write_text(str(os.getpid())), apart=True)
    wait()
    pid, saw = first.read_text().split()
    assert saw == "True"
    assert len({pid, second.read_text(), str(os.getpid())}) == 3


def test_with_other_threads_the_work_is_done_here_and_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("threading.active_count", lambda: 2)
    done = tmp_path / "done"
    aside(lambda: done.write_text(str(os.getpid())))
    assert done.read_text() == str(os.getpid())


def test_a_plan_has_written_its_caches_whole_when_it_exits(project) -> None:
    root = project(
        {
            "voxform.yaml": MANIFEST,
            "texts/a.md": "\n\n".join(f"Paragraph {n}." for n in range(50)),
        }
    )
    command = [sys.executable, "-m", "voxform", "-C", str(root), "plan", "--json"]
    first = subprocess.run(command, capture_output=True, check=True)
    caches = {p.name: p.read_bytes() for p in (root / ".voxform").iterdir()}
    assert {"render-cache", "source-cache"} <= caches.keys()
    second = subprocess.run(command, capture_output=True, check=True)
    assert second.stdout == first.stdout
    # read whole: every item answered from it, so it is not written again
    assert (root / ".voxform/render-cache").read_bytes() == caches["render-cache"]
