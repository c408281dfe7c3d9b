"""Ctrl-C at any moment of a command, start-up included: exit 130 and one line, no traceback.

Each run starts `validate` in a child process and sends SIGINT a little later than the run
before, from the moment the entry point is running until the command is over. The moments
are spread evenly over an uninterrupted run, at most MOMENTS of them and at least STEP apart:
on a busy machine every phase of the command stretches alike, so a wider step covers as much
of it, where a fixed one would try several times as many moments (each a child process). The
child runs with `-X importtime`, whose lines on standard error say how far start-up has got: the
sweep starts once click is imported, which the entry point does only after taking SIGINT
over (what comes before is Python's own start-up and a millisecond of voxform.cli.main).
At the very end, once Python has begun to shut down, a Ctrl-C is ignored: the command is
over and its exit code stands.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

STEP = 0.01  # at least this many seconds between the moments tried
MOMENTS = 30  # at most about this many moments over the length of an uninterrupted run
ENTRY = "from voxform.cli.main import main; main()"
CLICK_IMPORTED = re.compile(rb"^import time:.*\|\s+click$")


def _started(project: Path) -> tuple[subprocess.Popen[bytes], list[bytes]]:
    """`validate` started, once click is imported; the lines of standard error until then."""
    child = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-c", ENTRY, "-C", str(project), "validate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Unbuffered: the lines read here must not read ahead, since communicate() reads on
        # from the pipe itself and would lose (or cut in half) what a buffer had taken.
        bufsize=0,
    )
    assert child.stderr is not None
    early: list[bytes] = []
    for line in child.stderr:
        early.append(line)
        if CLICK_IMPORTED.match(line.rstrip()):
            break
    return child, early


def _length(project: Path) -> float:
    """Seconds an uninterrupted `validate` runs after click was imported."""
    child, _ = _started(project)
    start = time.monotonic()
    child.communicate(timeout=60)
    assert child.returncode == 0
    return time.monotonic() - start


def _interrupted_run(project: Path, delay: float) -> tuple[int, list[str], str] | None:
    """Exit code, standard error (less import timings) and standard output of `validate`
    sent SIGINT `delay` seconds after click was imported; None when it had finished by then."""
    child, early = _started(project)
    deadline = time.monotonic() + delay
    try:
        child.wait(timeout=max(0.0, deadline - time.monotonic()))
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
        child.send_signal(signal.SIGINT)
    out, rest = child.communicate(timeout=60)
    lines = (b"".join(early) + rest).decode("utf-8", "replace").splitlines()
    told = [line for line in lines if not line.startswith("import time:")]
    if finished:
        assert child.returncode == 0, told
        return None
    return child.returncode, told, out.decode()


def test_ctrl_c_at_any_moment_of_a_command_exits_130_with_one_line(quickstart: Path) -> None:
    tried: list[float] = []
    # the longer of two runs: a lucky fast one would make the steps needlessly short
    step = max(STEP, max(_length(quickstart) for _ in range(2)) / MOMENTS)
    delay = 0.0
    while (result := _interrupted_run(quickstart, delay)) is not None:
        code, told, out = result
        where = f"SIGINT {delay * 1000:.0f} ms after click was imported"
        assert not any("Traceback" in line for line in told), (where, told)
        if code == 0:
            # Only once the command has said everything may a Ctrl-C pass by (Python is
            # shutting down).
            assert out.startswith("Valid: "), (where, out)
            assert told == [], (where, told)
        else:
            assert code == 130, (where, code, told)
            assert told == ["Interrupted."], (where, told)
            tried.append(delay)
        delay += step
    # The sweep covered start-up, loading the project and printing: validate takes longer
    # than a few steps however fast the machine.
    assert len(tried) >= 5, tried
