"""What the benches share: a `voxform emulator` process, generated projects, and running
`voxform` as a user would (a subprocess), with its own CPU time and peak memory."""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

KEY_ENV = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "testid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "testsecret"}
# fmt: off
WORDS = (
    "alpha", "beta", "gamma", "delta", "course", "lesson", "query", "table", "join", "index",
    "speech", "narration", "audio", "file", "chapter", "reader", "shelf", "voice", "paragraph",
    "sentence",
)
# fmt: on
SUBMIT, GET, LIST = "SubmitAudioProduceJob", "GetSmartHandleJob", "ListSmartJobs"
OPERATIONS = (SUBMIT, GET, LIST)
CHECKOUT = Path(__file__).resolve().parent.parent
# Users run compiled bytecode (pip compiles it at install), so every voxform the benches start
# may write it, to a cache of the benches' own: a checkout with no `__pycache__` (a fresh
# `git worktree`) or an environment with PYTHONDONTWRITEBYTECODE would otherwise compile every
# module on every run, and charge that to the code measured.
PYCACHE = Path(tempfile.gettempdir()) / "voxform-bench-pycache"


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, dict[str, int]]:
        with urllib.request.urlopen(f"{self.url}/_emulator/stats", timeout=30) as answer:
            stats: dict[str, dict[str, int]] = json.load(answer)
            return stats

    def cpu(self) -> float:
        """CPU seconds the emulator has used so far (it shares the cores with the client)."""
        return sum(self.times())

    def times(self) -> tuple[float, float]:
        """The emulator's user and kernel CPU seconds so far."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan"), float("nan")
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick


@contextmanager
def emulator(storage: Path, *options: str) -> Iterator[Emulator]:
    """`voxform emulator` on 127.0.0.1, port 0, stopped (SIGINT, then killed) at the end.
    It always runs this checkout's code: it is the service, not the client measured."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voxform",
            "emulator",
            "--port",
            "0",
            "--storage",
            str(storage),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=environment(),
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


# fmt: off
BOOK_WORDS = (
    "harbour", "keeper", "lighthouse", "storm", "morning", "boats", "village", "quiet",
    "evening", "tide", "rope", "lantern", "gull", "stairs", "window", "north", "wind", "salt",
    "bread", "kettle", "letter", "chapter", "river", "bridge", "market", "garden", "winter",
    "summer", "island", "story",
)
# fmt: on


def make_book(
    root: Path, items: int, *, target: str = "ice", limits: dict[str, float] | None = None
) -> int:
    """The project of issue 14 (the bytes /work/shared/hooks/scale_gen.py writes): 100
    paragraphs per Markdown file, two voices, two templates (the default one with
    `pause(300)`), MP3; a local target or an ICE one (with `limits`, stated per operation).
    Returns the number of items, a multiple of the paragraphs per file."""
    rng = random.Random(7)
    per_file = 100 if items >= 1000 else max(1, items // 10)
    files = max(1, items // per_file)
    (root / "texts/books").mkdir(parents=True, exist_ok=True)
    (root / "templates").mkdir(exist_ok=True)
    for f in range(files):
        paragraphs = []
        for _ in range(per_file):
            sentences = [
                " ".join(rng.choice(BOOK_WORDS) for _ in range(rng.randint(8, 16))).capitalize()
                + "."
                for _ in range(rng.randint(2, 4))
            ]
            paragraphs.append(" ".join(sentences))
        (root / f"texts/books/b{f:05d}.md").write_text("\n\n".join(paragraphs) + "\n")
    (root / "templates/plain.ssml.j2").write_text("<speak>{{ text }}</speak>\n")
    (root / "templates/para.ssml.j2").write_text("<speak>{{ text }}{{ pause(300) }}</speak>\n")
    ice = "provider: ice, region: cn-shanghai, bucket: gen-bucket, prefix: gen/"
    if target == "local":
        line = "  out: {provider: local, path: build/audio}\n"
    elif limits:
        stated = ", ".join(f"{op}: {n:g}" for op, n in limits.items())
        line = f"  out: {{{ice}, rate_limits: {{{stated}}}}}\n"
    else:
        line = f"  out: {{{ice}, rate_limit: 200}}\n"
    (root / "voxform.yaml").write_text(
        "version: 1\nname: generated\ntargets:\n" + line + "voices:\n"
        "  narrator: {voice: siqi}\n"
        "  second: {voice: xiaoyun, speech_rate: 100}\n"
        "defaults: {voice: narrator, format: mp3, sample_rate: 16000, template: para,"
        " target: out}\n"
        "templates:\n"
        "  plain: templates/plain.ssml.j2\n"
        "  para: templates/para.ssml.j2\n"
        "sources:\n"
        "  - id: books\n"
        "    glob: texts/books/*.md\n"
        "    split: paragraph\n"
    )
    return files * per_file


@dataclass
class Run:
    code: int
    seconds: float
    cpu: float  # user + system seconds of the voxform process (and the children it reaped)
    peak_mb: float  # the largest single process (wait4's ru_maxrss)
    output: str
    tree_mb: float = float("nan")  # the process and its children together, sampled
    errors: str = ""  # standard error, when kept apart (else it is in `output`)
    system: float = float("nan")  # of `cpu`, the seconds spent in the kernel


def voxform(
    args: Sequence[str],
    *,
    url: str | None = None,
    src: Path | None = None,
    timeout: float = 3600,
    errors_apart: bool = False,
) -> Run:
    """Run `voxform ARGS` (against the emulator at `url`, with the code of checkout `src`);
    its exit, time, CPU and memory."""
    return finish(start(args, url=url, src=src, errors_apart=errors_apart), timeout=timeout)


@dataclass
class Started:
    process: subprocess.Popen[str]
    log: IO[str]
    started: float
    errors: IO[str] | None = None  # standard error, when kept apart from the output
    tree: list[float] = field(default_factory=list)  # sampled peak, in MB, while it ran


def environment(*, url: str | None = None, src: Path | None = None) -> dict[str, str]:
    """The environment of a voxform subprocess: the emulator's address and test keys, and
    `src`'s code first on PYTHONPATH (it wins over the editable install)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if url is not None:
        env.update(KEY_ENV, VOXFORM_ICE_ENDPOINT=url)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(src.resolve() / "src"), *filter(None, [env.get("PYTHONPATH")])]
        )
    return env


def start(
    args: Sequence[str],
    *,
    url: str | None = None,
    src: Path | None = None,
    command: Sequence[str] = (),
    errors_apart: bool = False,
) -> Started:
    """Start `voxform ARGS` (or `command` + ARGS, e.g. voxform under cProfile), its output
    to a temporary file and, with `errors_apart`, its standard error to another."""
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115  (closed by finish)
    errors = tempfile.TemporaryFile("w+") if errors_apart else None  # noqa: SIM115
    started = time.monotonic()
    process = subprocess.Popen(
        [*(command or (sys.executable, "-m", "voxform")), *args],
        stdout=log,
        stderr=errors or subprocess.STDOUT,
        text=True,
        env=environment(url=url, src=src),
    )
    run = Started(process, log, started, errors)
    threading.Thread(target=_sample_tree, args=(process, run.tree), daemon=True).start()
    return run


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants, from /proc."""
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        current = todo.pop()
        with suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * page
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total


def _sample_tree(process: subprocess.Popen[str], peak: list[float]) -> None:
    # wait4's ru_maxrss is the largest single process: a voxform that renders in worker
    # processes would hide their memory from it, so the whole tree is sampled as well.
    best = 0
    while process.returncode is None and Path(f"/proc/{process.pid}").exists():
        best = max(best, _tree_rss(process.pid))
        peak[:] = [best / 2**20]
        time.sleep(0.1)


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def finish(started_run: Started, *, timeout: float = 3600) -> Run:
    """Wait for a `start`ed voxform; its own CPU time and peak memory come from wait4."""
    process, log, started = started_run.process, started_run.log, started_run.started
    # A blocking wait4 times the exit to the microsecond (the startup bench needs that);
    # the pid stays unreaped until it returns, so the watchdog cannot kill a stranger.
    watchdog = threading.Timer(timeout, _kill, (process.pid,))
    watchdog.daemon = True
    watchdog.start()
    usage = None
    try:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    except ChildProcessError:  # already reaped by Popen itself (send_signal polls)
        if process.returncode is None:
            process.returncode = -1
    finally:
        watchdog.cancel()
    seconds = time.monotonic() - started
    log.seek(0)
    output = log.read()
    log.close()
    errors = ""
    if started_run.errors is not None:
        started_run.errors.seek(0)
        errors = started_run.errors.read()
        started_run.errors.close()
    cpu = usage.ru_utime + usage.ru_stime if usage else float("nan")
    peak = usage.ru_maxrss / 1024 if usage else float("nan")
    tree = started_run.tree[0] if started_run.tree else float("nan")
    system = usage.ru_stime if usage else float("nan")
    return Run(process.returncode, seconds, cpu, peak, output, tree, errors, system)


def median_run(runs: Sequence[Run]) -> Run:
    """The run of median time (the upper one of an even count), so its CPU and memory
    belong to the same run."""
    ordered = sorted(runs, key=lambda run: run.seconds)
    return ordered[len(ordered) // 2]


def table(rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, first row the header."""
    text = [" | ".join(str(c) for c in rows[0]), " | ".join("---" for _ in rows[0])]
    text += [" | ".join(str(c) for c in row) for row in rows[1:]]
    return "\n".join(f"| {line} |" for line in text)


def code_of(src: Path | None) -> str:
    """Where the measured voxform's code comes from, and its commit."""
    checkout = (src or CHECKOUT).resolve()
    described = subprocess.run(
        ["git", "-C", str(checkout), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{checkout / 'src'} ({described or 'not a git checkout'})"


def preamble(src: Path | None = None, *, extra: Sequence[str] = ()) -> None:
    """Print the command that reproduces this bench (with `extra`, e.g. a seed drawn at
    random) and the machine it runs on."""
    print("command: " + shlex.join(["python", *sys.argv, *extra]))
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), load {load};"
        f" Python {sys.version.split()[0]} at {sys.executable}"
    )
    print(f"voxform: {code_of(src)}; bytecode cached in {PYCACHE}")
    print()


def calls_per_item(stats: dict[str, dict[str, int]], items: int) -> str:
    """Calls per item by operation (throttled ones included), as one line."""
    calls = stats.get("calls", {})
    return ", ".join(f"{op} {calls.get(op, 0) / max(items, 1):.2f}" for op in OPERATIONS)
