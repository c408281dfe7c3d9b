"""A throttle storm: how much longer apply takes when 30% of calls fail, against no faults.

    python bench/throttle_storm.py [--items 200] [--submit-limit 10] [--get-limit 20]
        [--list-limit 10] [--latency 1.0] [--fail-requests 0.3] [--unknown-limits]
        [--seed N] [--src CHECKOUT]

Issue 14's storm: `voxform emulator --synthesis silence` limits SubmitAudioProduceJob,
GetSmartHandleJob and ListSmartJobs per second (the manifest states the same, unless
--unknown-limits) and answers the given share of calls 503 ServiceUnavailable or Throttling
before handling them. One `voxform apply --yes` of ITEMS paragraphs (issue 14's project)
runs as a subprocess; the table gives its wall time, the items done, and the ratio to the
fault-free ideal (items / submit limit + latency). Acceptance: every item done within 45 s.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import (
    GET,
    LIST,
    OPERATIONS,
    SUBMIT,
    calls_per_item,
    emulator,
    make_book,
    preamble,
    rate_limit_options,
    table,
    voxform,
)

GOAL = 45.0  # seconds, issue 14's acceptance for the default storm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--submit-limit", type=float, default=10.0)
    parser.add_argument("--get-limit", type=float, default=20.0)
    parser.add_argument("--list-limit", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--fail-requests", type=float, default=0.3)
    parser.add_argument("--unknown-limits", action="store_true", help="none in the manifest")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=900.0, help="give up on apply after")
    parser.add_argument("--src", type=Path, default=None, help="the checkout whose code to run")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    preamble(args.src, extra=[] if args.seed is not None else ["--seed", str(seed)])
    limits = {SUBMIT: args.submit_limit, GET: args.get_limit, LIST: args.list_limit}

    with tempfile.TemporaryDirectory(prefix="voxform-storm-") as scratch:
        root = Path(scratch) / "project"
        items = make_book(root, args.items, limits=None if args.unknown_limits else limits)
        with emulator(
            Path(scratch) / "oss",
            "--latency",
            str(args.latency),
            "--synthesis",
            "silence",
            *rate_limit_options(limits),
            "--fail-requests",
            str(args.fail_requests),
            "--seed",
            str(seed),
        ) as emu:
            run = voxform(
                ["-C", str(root), "apply", "--yes"], url=emu.url, src=args.src, timeout=args.timeout
            )
            stats = emu.stats()
        lock_path = root / "voxform.lock"
        lock = json.loads(lock_path.read_text())["items"] if lock_path.exists() else {}
    if run.code != 0:
        print(run.output[-3000:], file=sys.stderr)
    done = sum(1 for e in lock.values() if e["state"] == "finished")
    failed = sum(1 for e in lock.values() if e["state"] == "failed")
    ideal = items / args.submit_limit + args.latency
    # An injected failure is answered before the call is handled, so the per-operation call
    # counts leave it out; the emulator counts it among its request outcomes.
    injected = stats.get("requests", {}).get("failed", 0)
    throttled = stats.get("throttled", {})
    twice = sum(1 for n in stats.get("submissions", {}).values() if n > 1)
    verdict = "met" if done == items and run.seconds <= GOAL else "NOT met"
    print(
        f"{items} items, {args.latency:g} s jobs, emulator limits submit {args.submit_limit:g}/s"
        f" get {args.get_limit:g}/s list {args.list_limit:g}/s, manifest limits "
        f"{'unknown' if args.unknown_limits else 'the same'}, fail-requests "
        f"{args.fail_requests:g}, seed {seed}"
    )
    print(
        table(
            [
                ["measure", "value"],
                ["apply exit code", run.code],
                ["items done / failed / in all", f"{done} / {failed} / {items}"],
                ["wall time", f"{run.seconds:.1f} s"],
                ["fault-free ideal (items / submit limit + latency)", f"{ideal:.1f} s"],
                ["wall / ideal", f"{run.seconds / ideal:.2f}x"],
                ["client CPU", f"{run.cpu:.1f} s"],
                ["calls handled per item", calls_per_item(stats, items)],
                ["calls failed on purpose (not handled, any operation)", injected],
                [
                    "throttled answers",
                    ", ".join(f"{op} {throttled.get(op, 0)}" for op in OPERATIONS),
                ],
                ["objects submitted more than once", twice],
                [f"goal: every item done within {GOAL:g} s", verdict],
            ]
        )
    )


if __name__ == "__main__":
    main()
