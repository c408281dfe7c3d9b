"""On a terminal: colour unless NO_COLOR; a closed pipe ends output quietly."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import write_files

BROKEN = """
version: 1
targets: {local: {provider: local, path: out}}
voices: {n: {voice: siqi, volume: 500}}
items: [{id: a, text: Hi}]
"""


def on_a_terminal(root: Path, env: dict[str, str], *args: str) -> bytes:
    """Run voxform with its stdout and stderr on a pseudo-terminal; what it wrote."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "voxform", "-C", str(root), *args],
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(leader)
    return output


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_colour_on_a_terminal_unless_no_color(
    tmp_path: Path, no_color: str | None, coloured: bool
) -> None:
    root = write_files(tmp_path, {"voxform.yaml": BROKEN})
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS")}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    output = on_a_terminal(root, env, "validate")
    assert b"500 is greater than the maximum of 100" in output
    assert (b"\x1b[" in output) is coloured


def test_a_closed_pipe_ends_output_without_an_error(tmp_path: Path) -> None:
    root = write_files(tmp_path, {"voxform.yaml": BROKEN.replace("volume: 500", "volume: 50")})
    items = "\n".join(f"  - {{id: i{n}, text: Hello number {n}.}}" for n in range(3000))
    manifest = root / "voxform.yaml"
    manifest.write_text(
        manifest.read_text().replace("items: [{id: a, text: Hi}]", "items:\n" + items)
    )
    reader = subprocess.Popen(["head", "-n", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    done = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(root), "plan"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        timeout=120,
        check=False,
    )
    assert reader.stdin is not None
    reader.stdin.close()
    assert reader.stdout is not None
    first = reader.stdout.read()
    reader.wait(timeout=30)
    assert first.startswith(b"  + i0: create")
    assert done.stderr == b"", done.stderr
