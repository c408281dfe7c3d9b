"""What the apply benches share: a `voxform emulator` process, generated projects, and
running `voxform` as a user would (a subprocess), with its own CPU time and peak memory."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

KEY_ENV = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "testid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "testsecret"}
WORDS = (
    "alpha", "beta", "gamma", "delta", "course", "lesson", "query", "table", "join",
    "index", "speech", "narration", "audio", "file", "chapter", "reader", "shelf", "voice",
    "paragraph", "sentence",
)


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, dict[str, int]]:
        with urllib.request.urlopen(f"{self.url}/_emulator/stats", timeout=30) as answer:
            stats: dict[str, dict[str, int]] = json.load(answer)
            return stats


@contextmanager
def emulator(storage: Path, *options: str) -> Iterator[Emulator]:
    """`voxform emulator` on 127.0.0.1, port 0, stopped (SIGINT, then killed) at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "voxform", "emulator", "--port", "0",
         "--storage", str(storage), *options],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first.startswith("listening on "):
            raise RuntimeError(f"the emulator did not start: {first!r}")
        process.stdout.readline()  # storage: ...
        yield Emulator(first.split()[-1], process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rate_limit_options(limits: dict[str, float]) -> list[str]:
    """`voxform emulator` options giving each operation the limit the manifest states."""
    return [option for op, n in limits.items() for option in ("--rate-limit", f"{op}={n}")]


def make_project(root: Path, items: int, *, limits: dict[str, float] | None, seed: int = 1) -> Path:
    """A project with `items` paragraphs (100 per file) for one ICE target."""
    rng = random.Random(seed)
    (root / "texts").mkdir(parents=True, exist_ok=True)
    for start in range(0, items, 100):
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 24))).capitalize() + "."
            for _ in range(min(100, items - start))
        ]
        (root / "texts" / f"part{start // 100:04d}.md").write_text("\n\n".join(paragraphs) + "\n")
    target = {"provider": "ice", "region": "cn-shanghai", "bucket": "bench-audio", "prefix": "b/"}
    if limits:
        target["rate_limits"] = limits  # type: ignore[assignment]
    manifest = {
        "version": 1,
        "name": "bench",
        "targets": {"oss": target},
        "voices": {"narrator": {"voice": "siqi"}},
        "defaults": {"voice": "narrator", "target": "oss"},
        "sources": [{"id": "book", "glob": "texts/*.md", "split": "paragraph"}],
    }
    (root / "voxform.yaml").write_text(json.dumps(manifest, indent=2))  # JSON is YAML
    return root


@dataclass
class Run:
    code: int
    seconds: float
    cpu: float  # user + system seconds of the voxform process
    peak_mb: float
    output: str


def voxform(args: Sequence[str], *, url: str, timeout: float = 3600) -> Run:
    """Run `voxform ARGS` against the emulator at `url`; its exit, time, CPU and memory."""
    return finish(start(args, url=url), timeout=timeout)


@dataclass
class Started:
    process: subprocess.Popen[str]
    log: IO[str]
    started: float


def start(args: Sequence[str], *, url: str) -> Started:
    """Start `voxform ARGS` against the emulator at `url` (output to a temporary file)."""
    env = {**os.environ, **KEY_ENV, "VOXFORM_ICE_ENDPOINT": url}
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed by finish)
    process = subprocess.Popen(
        [sys.executable, "-m", "voxform", *args],
        stdout=log, stderr=subprocess.STDOUT, text=True, env=env,
    )
    return Started(process, log, time.monotonic())


def finish(started_run: Started, *, timeout: float = 3600) -> Run:
    """Wait for a `start`ed voxform; its own CPU time and peak memory come from wait4."""
    process, log, started = started_run.process, started_run.log, started_run.started
    deadline = time.monotonic() + timeout
    usage = None
    while process.returncode is None:
        try:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        except ChildProcessError:  # already reaped by Popen itself (send_signal polls)
            break
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > deadline:
            process.kill()
        time.sleep(0.02)
    seconds = time.monotonic() - started
    log.seek(0)
    output = log.read()
    log.close()
    cpu = usage.ru_utime + usage.ru_stime if usage else float("nan")
    peak = usage.ru_maxrss / 1024 if usage else float("nan")
    return Run(process.returncode, seconds, cpu, peak, output)


def table(rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, first row the header."""
    text = [" | ".join(str(c) for c in rows[0]), " | ".join("---" for _ in rows[0])]
    text += [" | ".join(str(c) for c in row) for row in rows[1:]]
    return "\n".join(f"| {line} |" for line in text)
