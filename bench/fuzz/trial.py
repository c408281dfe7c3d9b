"""One case end to end: build it, run validate, plan --json and (every Nth case) apply against
a trap socket, judge each command, and return the case as a JSON-ready dict."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .case import Case
from .command import Run, child_env, kill_marked, marked_processes, run_voxform
from .generate import build_case
from .judge import changed, check_output, snapshot

APPLY_CHARACTER_BUDGET = 20_000  # apply only plans whose local synthesis takes seconds


@dataclass
class Options:
    seed: int
    timeout: float
    apply_timeout: float
    apply_every: int
    base: Path
    templates: Path
    keep: bool = False
    verbose: bool = False


def planned_characters(stdout: str) -> int:
    try:
        summary = json.loads(stdout)["summary"]
        return int(summary.get("characters", 0))
    except (ValueError, KeyError, TypeError):
        return 0


class Stuck(Exception):
    """The fuzzer itself took too long over a case."""


def _stuck(signum: int, frame: object) -> None:
    raise Stuck("the fuzzer spent longer on this case than its commands may take")


def run_case(number: int, options: Options) -> dict[str, Any]:
    signal.signal(signal.SIGALRM, _stuck)
    signal.alarm(int(2 * options.timeout + options.apply_timeout + 60))
    try:
        return _run_case(number, options)
    except Exception:
        return {"case": number, "mutations": [], "runs": [], "error": traceback.format_exc()}
    finally:
        signal.alarm(0)


def _run_case(number: int, options: Options) -> dict[str, Any]:
    apply = options.apply_every > 0 and number % options.apply_every == 0
    case = build_case(number, options.seed, options.base, options.templates, apply)
    github = case.rng.random() < 1 / 3
    logs = case.root / "logs"
    logs.mkdir()
    before = snapshot(case)
    runs: list[Run] = []
    with socket.socket() as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen(16)
        trap.setblocking(False)
        env = child_env(case, github, trap.getsockname()[1])
        commands: list[list[str]] = [["validate"], ["plan", "--json"]]
        for args in commands:
            run, stdout, stderr = run_voxform(args, case, env, options.timeout, logs)
            finish_run(run, case, before, trap, stdout, stderr, options)
            runs.append(run)
        if apply:
            if planned_characters(stdout) > APPLY_CHARACTER_BUDGET:
                runs.append(Run("apply", "skipped", None, 0.0, 0, "too many characters"))
            else:
                args = ["apply", "--yes"] + (
                    ["--prune"] if number // options.apply_every % 2 else []
                )
                run, stdout, stderr = run_voxform(args, case, env, options.apply_timeout, logs)
                finish_run(run, case, before, trap, stdout, stderr, options)
                runs.append(run)
    if not options.keep:
        shutil.rmtree(case.root, ignore_errors=True)
    return {
        "case": number,
        "example": case.example,
        "github": github,
        "apply": apply,
        "mutations": case.mutations,
        "runs": [asdict(r) for r in runs],
        "root": str(case.root),
    }


def finish_run(
    run: Run,
    case: Case,
    before: dict[str, tuple[object, ...]],
    trap: socket.socket,
    stdout: str,
    stderr: str,
    options: Options,
) -> None:
    run.outside = changed(case, before)
    try:
        while True:
            connection, _ = trap.accept()
            connection.close()
            run.notes.append("network: a connection reached the proxy trap")
    except BlockingIOError:
        pass
    check_output(run, stdout, stderr)
    deadline = time.monotonic() + 2
    while marked_processes(str(case.root)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = kill_marked(str(case.root))
    if left:
        run.notes.append(f"left running: {left} process(es) after {run.command}")
    if options.verbose:
        print(
            f"--- {run.command}: {run.outcome} in {run.seconds:.2f} s, "
            f"peak {run.max_rss_kb // 1024} MB {run.problem}"
        )
        for line in (stdout + stderr).splitlines()[:40]:
            print("    " + line[:200])
        for item in [*run.outside, *run.notes]:
            print(f"    ! {item}")
