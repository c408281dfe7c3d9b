"""One apply at a time: a second one fails at once and says who holds the project."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Runner
from voxform.errors import VoxformError
from voxform.state.lease import LEASE, lease, release


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


def test_a_held_lease_names_its_id_and_unlock_releases_only_that_one(
    quickstart: Path, voxform: Runner
) -> None:
    (quickstart / LEASE).parent.mkdir()
    held = {"host": "elsewhere", "pid": 1, "holder": "ci", "id": "0a1b2c3d4e5f"}
    (quickstart / LEASE).write_text(json.dumps(held))
    refused = voxform(quickstart, "apply", "--yes")
    assert refused.exit_code == 1
    assert "voxform unlock 0a1b2c3d4e5f" in refused.output  # another host: never taken over
    wrong = voxform(quickstart, "unlock", "ffffffffffff")
    assert wrong.exit_code == 1 and "not 'ffffffffffff'" in wrong.output
    assert (quickstart / LEASE).exists()
    released = voxform(quickstart, "unlock", "0a1b2c3d4e5f")
    assert released.exit_code == 0, released.output
    assert "Released lease 0a1b2c3d4e5f (holder ci, host elsewhere, pid 1)." in released.output
    assert not (quickstart / LEASE).exists()
    again = voxform(quickstart, "unlock", "0a1b2c3d4e5f", "--json")
    assert again.exit_code == 1 and json.loads(again.stdout)["errors"]


def test_an_empty_lease_file_can_be_unlocked_by_its_stated_id(
    quickstart: Path, voxform: Runner
) -> None:
    (quickstart / LEASE).parent.mkdir()
    (quickstart / LEASE).write_text("")  # a crash between creating and writing it
    refused = voxform(quickstart, "apply", "--yes")
    assert "voxform unlock unreadable" in refused.output
    assert voxform(quickstart, "unlock", "unreadable").exit_code == 0
    assert voxform(quickstart, "apply", "--yes", "--select", "welcome").exit_code == 0


def test_an_empty_lease_file_left_long_ago_is_taken_over(quickstart: Path, voxform: Runner) -> None:
    (quickstart / LEASE).parent.mkdir()
    (quickstart / LEASE).write_text("")
    old = time.time() - 60
    os.utime(quickstart / LEASE, (old, old))
    result = voxform(quickstart, "apply", "--yes", "--select", "welcome")
    assert result.exit_code == 0, result.output
    assert not (quickstart / LEASE).exists()


def test_a_state_directory_that_is_a_symlink_or_a_file_is_never_used(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked/.voxform").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain/.voxform").write_text("not a directory")
    for root, message in (("linked", ".voxform is a symlink"), ("plain", "not a directory")):
        with pytest.raises(VoxformError, match=message), lease(tmp_path / root):
            pass
        with pytest.raises(VoxformError, match=message):
            release(tmp_path / root, "0a1b2c3d4e5f")
    assert list(elsewhere.iterdir()) == []
    assert (tmp_path / "plain/.voxform").read_text() == "not a directory"


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe",
        b"[" * 100_000,
        b'{"pid": ' + b"9" * 5000 + b"}",
        b'{"pid": 99999999999999999999, "host": "HOST"}',
        b'{"pid": true, "host": "HOST"}',
    ],
)
def test_a_hostile_lease_file_is_an_unreadable_lease_not_a_traceback(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / LEASE
    path.parent.mkdir(parents=True)
    path.write_bytes(content.replace(b"HOST", socket.gethostname().encode()))
    with pytest.raises(VoxformError, match="another apply holds this project"), lease(tmp_path):
        pass
