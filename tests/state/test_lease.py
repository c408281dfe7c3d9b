"""One apply at a time: a second one fails at once and says who holds the project."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from conftest import Runner
from voxform.state.lease import LEASE, lease


def test_second_apply_fails_at_once_naming_the_holder(quickstart: Path, voxform: Runner) -> None:
    with lease(quickstart):
        result = voxform(quickstart, "apply", "--yes")
    assert result.exit_code == 1
    assert "another apply holds this project" in result.output
    assert f"host {socket.gethostname()}" in result.output and "pid " in result.output
    assert not (quickstart / "voxform.lock").exists()
    assert not (quickstart / LEASE).exists()  # released by its holder


def test_lease_of_a_dead_process_is_taken_over(quickstart: Path, voxform: Runner) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (quickstart / LEASE).parent.mkdir()
    (quickstart / LEASE).write_text(
        json.dumps({"host": socket.gethostname(), "pid": dead.pid, "holder": "x"})
    )
    result = voxform(quickstart, "apply", "--yes", "--select", "welcome")
    assert result.exit_code == 0, result.output
    assert not (quickstart / LEASE).exists()
