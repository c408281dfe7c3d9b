"""Lost answers under a flaky service: how long apply takes to find submissions again.

    python bench/lookup_faults.py [--items 400] [--fail-requests 0.3] [--drop-responses 0.2]
        [--kill-after 3.0] [--seed N]

Starts `voxform emulator` failing and losing the given shares of calls. With --kill-after,
first starts `voxform apply --yes` and kills it (-9) after that many seconds, so the apply
measured begins with intents to look up (resumes); then runs one apply to the end and prints
its time, its ListSmartJobs calls and how many times each object was submitted.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import emulator, finish, make_project, start, table, voxform

LIST = "ListSmartJobs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--fail-requests", type=float, default=0.3)
    parser.add_argument("--drop-responses", type=float, default=0.2)
    parser.add_argument("--kill-after", type=float, default=None)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log", type=Path, default=None, help="write apply's output here")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    with tempfile.TemporaryDirectory(prefix="voxform-lookups-") as scratch:
        root = make_project(Path(scratch) / "project", args.items, limits=None)
        apply = ["-C", str(root), "apply", "--yes"]
        with emulator(
            Path(scratch) / "oss",
            "--latency",
            str(args.latency),
            "--synthesis",
            "silence",
            "--fail-requests",
            str(args.fail_requests),
            "--drop-responses",
            str(args.drop_responses),
            "--seed",
            str(seed),
        ) as emu:
            if args.kill_after is not None:
                running = start(apply, url=emu.url)
                time.sleep(args.kill_after)  # a fixed moment, so runs compare
                running.process.send_signal(signal.SIGKILL)
                finish(running, timeout=60)
            before = emu.stats()["calls"].get(LIST, 0)
            last = voxform(apply, url=emu.url)
            stats = emu.stats()
    submissions = Counter(stats["submissions"].values())
    print(
        f"seed {seed}: {args.items} items, fail-requests {args.fail_requests:g}, drop-responses"
        f" {args.drop_responses:g}"
        + (f", killed after {args.kill_after:g} s" if args.kill_after is not None else "")
    )
    print(
        table(
            [
                ["measure", "value"],
                ["apply exit code", last.code],
                ["apply seconds", f"{last.seconds:.1f}"],
                ["ListSmartJobs calls of that apply", stats["calls"].get(LIST, 0) - before],
                ["objects submitted", sum(submissions.values())],
                [
                    "objects submitted more than once",
                    sum(n for k, n in submissions.items() if k > 1),
                ],
            ]
        )
    )
    if args.log is not None:
        args.log.write_text(last.output)
    if last.code != 0:
        print(last.output.strip()[-2000:])


if __name__ == "__main__":
    main()
