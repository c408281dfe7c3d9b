"""Running one voxform command of a case: its own process group, stdin closed, no
credentials, proxies at a trap, killed past its timeout, its memory or its output limit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .judge import TRACEBACK, explain_traceback, first_error, last_line

if TYPE_CHECKING:
    from .case import Case

MEMORY_LIMIT_KB = 500 * 1024
HARD_MEMORY_KB = 2048 * 1024  # killed at once past this, to keep the machine alive
ADDRESS_SPACE = 4 << 30  # RLIMIT_AS of the fuzzer and all it starts (apply peaks near 0.4 GB)
OUTPUT_LIMIT = 256 << 20  # bytes a command may print before it is killed as a runaway
MARKER = "VOXFORM_FUZZ_ROOT"  # in each child's environment, to find what it left running


@dataclass
class Run:
    command: str
    outcome: str
    code: int | None
    seconds: float
    max_rss_kb: int
    problem: str = ""  # the line that explains a failure
    outside: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def marked_processes(marker: str) -> list[int]:
    """Processes whose environment carries this case's marker (what its commands started)."""
    needle = f"{MARKER}={marker}".encode() + b"\0"
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as environ:
                    if needle in environ.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def kill_marked(marker: str) -> int:
    pids = marked_processes(marker)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def run_voxform(
    args: list[str], case: Case, env: dict[str, str], timeout: float, logs: Path
) -> tuple[Run, str, str]:
    """One command in its own process group; its outcome, stdout and stderr."""
    name = args[0]
    with (logs / f"{name}.out").open("wb") as out, (logs / f"{name}.err").open("wb") as err:
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "voxform", "-C", str(case.project), *args],
            cwd=case.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        hung = heavy = flood = False
        pause = 0.002
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                hung = True
            elif rss_kb(process.pid) > HARD_MEMORY_KB:
                heavy = True
            elif printed(logs, name) > OUTPUT_LIMIT:
                flood = True
            if hung or heavy or flood:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(pause)
            pause = min(pause * 1.5, 0.02)
        seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code  # reaped here: Popen must not wait for it
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    stdout, stderr = (read_log(logs / f"{name}.{kind}") for kind in ("out", "err"))
    text = stdout + stderr
    if hung:
        outcome, problem = "hang", f"killed after {timeout:g} s"
    elif flood:
        outcome, problem = "hang", f"killed after printing {OUTPUT_LIMIT >> 20} MB"
    elif heavy or usage.ru_maxrss > MEMORY_LIMIT_KB:
        outcome, problem = "memory", f"peak RSS {usage.ru_maxrss // 1024} MB"
    elif TRACEBACK in text:
        outcome, problem = "traceback", explain_traceback(text)
        if problem.startswith("MemoryError"):  # at the address-space cap, not a bug of its own
            outcome, problem = "memory", f"{problem} (RLIMIT_AS {ADDRESS_SPACE >> 30} GB)"
    elif code in (0, 1, 2):
        outcome, problem = f"exit {code}", first_error(stderr) if code else ""
    else:
        outcome, problem = "crash", f"exit {code}: " + last_line(stderr)
    return Run(name, outcome, code, seconds, usage.ru_maxrss, problem), stdout, stderr


def read_log(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(50 << 20).decode("utf-8", "replace")


def printed(logs: Path, name: str) -> int:
    return sum((logs / f"{name}.{kind}").stat().st_size for kind in ("out", "err"))


def child_env(case: Case, github: bool, trap_port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ALIBABA_CLOUD_", "VOXFORM_", "GITHUB_", "GITLAB_"))
        and k not in ("CI", "NO_COLOR")
        and "proxy" not in k.lower()
    }
    trap = f"http://127.0.0.1:{trap_port}"
    env.update(
        {
            "HOME": str(case.root / "home"),
            MARKER: str(case.root),
            "HTTP_PROXY": trap,
            "HTTPS_PROXY": trap,
            "ALL_PROXY": trap,
            "http_proxy": trap,
            "https_proxy": trap,
            "all_proxy": trap,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if github:
        env["GITHUB_ACTIONS"] = "true"
    return env
