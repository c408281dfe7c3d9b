"""A command that loaded a project leaves without freeing it object by object (cli/main.py's
`keep` and `_leave`): its exit code, its whole output and the exit handlers stay as an
ordinary exit has them."""

from __future__ import annotations

import json
import pstats
import subprocess
import sys
from pathlib import Path

# The real entry point in a fresh process, with an exit handler of its own and a thread
# the test may start (an ordinary exit, which waits for it, is taken then).
ENTRY = """\
import atexit, sys, threading
atexit.register(lambda: sys.stderr.write("EXIT HANDLER RAN\\n"))
if sys.argv[1] == "thread":
    threading.Thread(target=threading.Event().wait, args=(0.5,)).start()
sys.argv[0:2] = ["voxform"]
from voxform.cli.main import main
main()
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, timeout=120
    )


def test_a_plan_exits_with_its_code_its_whole_output_and_the_exit_handlers(
    quickstart: Path,
) -> None:
    for mode in ("alone", "thread"):
        done = run(mode, "-C", str(quickstart), "plan", "--json", "--detailed-exitcode")
        assert done.returncode == 2, done.stderr
        assert json.loads(done.stdout)["changes"], done.stdout[-500:]  # every byte of it
        assert done.stderr.count("EXIT HANDLER RAN") == 1, done.stderr


def test_a_failed_load_exits_as_before(tmp_path: Path) -> None:
    (tmp_path / "voxform.yaml").write_text("version: 1\nname: broken\ntargets: [\n")
    done = run("alone", "-C", str(tmp_path), "plan")
    assert done.returncode == 1, done.stderr
    assert "voxform.yaml:4:1" in done.stdout + done.stderr
    assert done.stderr.count("EXIT HANDLER RAN") == 1, done.stderr


def test_a_profiled_plan_exits_the_ordinary_way_so_the_profile_is_written(
    quickstart: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "plan.prof"
    profiled = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "voxform"]
    done = subprocess.run(
        [*profiled, "-C", str(quickstart), "plan", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changes"], done.stdout[-500:]
    stats = pstats.Stats(str(profile))  # written after main returned
    functions = stats.stats  # type: ignore[attr-defined]
    assert any(name == "load_project" for _, _, name in functions), "no project load profiled"
