"""Exactly once across crashes: kill apply at random moments, then count submissions.

    python bench/kill_trials.py [--kills 20] [--items 300] [--signal KILL|TERM]
        [--drop-responses 0.0] [--read-only-lockfile] [--seed N]

Starts `voxform emulator`, then KILLS times starts `voxform apply --yes` and kills it (kill -9,
or SIGTERM as CI sends on cancel) at a random moment, then runs one apply to the end. Prints
how many times the emulator saw each object submitted: exactly once is the only good answer.
With --read-only-lockfile the lockfile lives where it cannot be written, and nothing may be
submitted at all.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import emulator, finish, make_project, rate_limit_options, start, table, voxform

SUBMIT, GET = "SubmitAudioProduceJob", "GetSmartHandleJob"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--signal", choices=("KILL", "TERM"), default="KILL")
    parser.add_argument("--drop-responses", type=float, default=0.0)
    parser.add_argument("--read-only-lockfile", action="store_true")
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument(
        "--rate",
        type=float,
        default=10.0,
        help="submissions per second (slow enough that every kill lands while work remains)",
    )
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    limits = {SUBMIT: args.rate, GET: args.rate * 2}
    sig = signal.SIGKILL if args.signal == "KILL" else signal.SIGTERM
    with tempfile.TemporaryDirectory(prefix="voxform-kills-") as scratch:
        root = make_project(Path(scratch) / "project", args.items, limits=limits)
        apply = ["-C", str(root)]
        if args.read_only_lockfile:
            apply += ["--lockfile", "/proc/voxform.lock"]  # not writable, even by root
        apply += ["apply", "--yes"]
        exits: Counter[int] = Counter()
        term_seconds: list[float] = []
        with emulator(
            Path(scratch) / "oss",
            "--latency",
            str(args.latency),
            "--synthesis",
            "silence",
            *rate_limit_options(limits),
            "--drop-responses",
            str(args.drop_responses),
            "--seed",
            str(seed),
        ) as emu:
            for _ in range(args.kills):
                running = start(apply, url=emu.url)
                time.sleep(rng.uniform(0.3, 3.0))  # a random moment, not a wait for anything
                sent = time.monotonic()
                running.process.send_signal(sig)
                result = finish(running, timeout=60)
                exits[result.code] += 1
                if sig == signal.SIGTERM:
                    term_seconds.append(time.monotonic() - sent)
            last = voxform(apply, url=emu.url)
            stats = emu.stats()
        lock_file = root / "voxform.lock"
        lock = json.loads(lock_file.read_text())["items"] if lock_file.exists() else {}
    submissions = stats["submissions"]
    counts = Counter(submissions.values())
    finished = sum(1 for e in lock.values() if e["state"] == "finished")
    print(
        f"seed {seed}: {args.kills} x SIG{args.signal} during a {args.items}-item apply, then "
        f"one apply to the end; drop-responses {args.drop_responses:g}"
        + ("; read-only lockfile location" if args.read_only_lockfile else "")
    )
    rows: list[list[object]] = [
        ["measure", "value"],
        ["exit codes of the killed applies", dict(sorted(exits.items()))],
        ["final apply exit code", last.code],
        ["items finished in voxform.lock", f"{finished} / {args.items}"],
        ["objects submitted", len(submissions)],
        ["objects submitted exactly once", counts.get(1, 0)],
        ["objects submitted more than once", sum(n for k, n in counts.items() if k > 1)],
        ["most submissions of one object", max(submissions.values(), default=0)],
        ["SubmitAudioProduceJob calls", stats.get("calls", {}).get(SUBMIT, 0)],
        ["ListSmartJobs calls", stats.get("calls", {}).get("ListSmartJobs", 0)],
    ]
    if term_seconds:
        rows.append(["longest exit after SIGTERM", f"{max(term_seconds):.1f} s"])
    print(table(rows))
    if args.read_only_lockfile:
        print(last.output.strip().splitlines()[-1] if last.output.strip() else "")


if __name__ == "__main__":
    main()
