"""Apply at the pace the service allows: wall time, client CPU per call, and the ideal.

    python bench/apply_pace.py [--preset NAME] [--items N] [--latency SECONDS]
        [--all-limits N] [--limit OPERATION=N ...] [--parallelism N] [--src CHECKOUT]

Presets, the apply configurations of issue 14 (options given as well override them):

    issue-10k       10,000 items, 0.3 s jobs, every operation at 2,000/s
    issue-2k         2,000 items, 0.3 s jobs, every operation at 2,000/s
    acceptance-500  10,000 items, 0.3 s jobs, every operation at 500/s
    slow-jobs        1,500 items, 1 s jobs, every operation at 30/s

Without a preset: 500 items, 0.3 s jobs, 2,000/s. The project is issue 14's (plan_scale.py's)
with one ICE target; `voxform emulator --synthesis silence --rate-limit N` gives every
operation N calls per second (`--limit OP=N` one of them), and the manifest's `rate_limits`
states the same for SubmitAudioProduceJob, GetSmartHandleJob and ListSmartJobs. One `voxform
apply --yes` runs as a subprocess; the table gives its wall time against the ideal (items /
submit limit + latency), its CPU and memory, its CPU per call (CPU / every ICE call the
emulator counted), and calls per item by operation. With --src the client runs another
checkout's code; the emulator always runs this checkout's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import (
    OPERATIONS,
    SUBMIT,
    calls_per_item,
    emulator,
    make_book,
    preamble,
    table,
    voxform,
)

from voxform.apply.run import default_parallelism

PRESETS: dict[str, tuple[int, float, float]] = {  # items, job latency, every operation's limit
    "issue-10k": (10_000, 0.3, 2000.0),
    "issue-2k": (2_000, 0.3, 2000.0),
    "acceptance-500": (10_000, 0.3, 500.0),
    "slow-jobs": (1_500, 1.0, 30.0),
}
GOALS = {  # issue 14's acceptance for its configurations
    "issue-10k": "client CPU within 15 s",
    "acceptance-500": "wall within 1.2x the ideal",
}


def limit(text: str) -> tuple[str, float]:
    """`OPERATION=N` from the command line."""
    operation, _, value = text.partition("=")
    if operation not in OPERATIONS:
        raise argparse.ArgumentTypeError(f"{operation!r} is not one of {', '.join(OPERATIONS)}")
    return operation, float(value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None)
    parser.add_argument("--items", type=int, default=None, help="default 500")
    parser.add_argument("--latency", type=float, default=None, help="seconds a job takes (0.3)")
    parser.add_argument("--all-limits", type=float, default=None, help="calls/s, each op (2000)")
    parser.add_argument("--limit", type=limit, action="append", default=[], metavar="OP=N")
    parser.add_argument("--parallelism", type=int, default=None, help="apply's --parallelism")
    parser.add_argument("--src", type=Path, default=None, help="the checkout whose code to run")
    args = parser.parse_args()
    items, latency, every = PRESETS.get(args.preset, (500, 0.3, 2000.0))
    items = args.items if args.items is not None else items
    latency = args.latency if args.latency is not None else latency
    every = args.all_limits if args.all_limits is not None else every
    limits = {**dict.fromkeys(OPERATIONS, every), **dict(args.limit)}
    preamble(args.src)

    with tempfile.TemporaryDirectory(prefix="voxform-pace-") as scratch:
        root = Path(scratch) / "project"
        items = make_book(root, items, limits=limits)
        options = [
            "--latency",
            str(latency),
            "--synthesis",
            "silence",
            "--rate-limit",
            f"{every:g}",
        ]
        options += [o for op, n in args.limit for o in ("--rate-limit", f"{op}={n:g}")]
        command = ["-C", str(root), "apply", "--yes"]
        if args.parallelism is not None:
            command += ["--parallelism", str(args.parallelism)]
        with emulator(Path(scratch) / "oss", *options) as emu:
            before = emu.times()
            run = voxform(command, url=emu.url, src=args.src)
            after = emu.times()
            emulator_cpu = sum(after) - sum(before)
            emulator_kernel = after[1] - before[1]
            stats = emu.stats()
        lock_path = root / "voxform.lock"
        lock = json.loads(lock_path.read_text())["items"] if lock_path.exists() else {}
    if run.code != 0:
        print(run.output[-3000:], file=sys.stderr)
    states = {s: sum(1 for e in lock.values() if e["state"] == s) for s in ("finished", "failed")}
    calls = stats.get("calls", {})
    total_calls = sum(calls.get(op, 0) for op in OPERATIONS)
    throttled = stats.get("throttled", {})
    twice = sum(1 for n in stats.get("submissions", {}).values() if n > 1)
    ideal = items / limits[SUBMIT] + latency
    # Without --parallelism, apply's default for these rates (this checkout's rule; with
    # --src, that checkout's own rule is what ran).
    parallelism = args.parallelism or default_parallelism([{SUBMIT: limits[SUBMIT]}])
    # Little's law: at most `parallelism` jobs in flight, each for at least `latency`.
    bound = items / (parallelism / latency) + latency if latency else 0.0
    rows: list[list[object]] = [
        ["measure", "value"],
        ["apply exit code", run.code],
        ["finished / failed / items", f"{states['finished']} / {states['failed']} / {items}"],
        ["wall time", f"{run.seconds:.1f} s"],
        ["ideal (items / submit limit + latency)", f"{ideal:.1f} s"],
        ["wall / ideal", f"{run.seconds / ideal:.2f}x"],
        ["items/s", f"{items / run.seconds:.0f}"],
        ["client CPU", f"{run.cpu:.1f} s ({run.cpu / run.seconds:.0%} of one core)"],
        # Kernel time is mostly making the subtitle files' inodes, which on an ext4 without a
        # journal is slow for a minute or more after many files were deleted (perf:
        # find_inode_bit -> recently_deleted), by another run's clean-up say.
        ["of which in the kernel", f"{run.system:.1f} s"],
        ["client CPU per call", f"{run.cpu / max(total_calls, 1) * 1000:.2f} ms"],
        ["client CPU per item", f"{run.cpu / max(items, 1) * 1000:.2f} ms"],
        ["client peak memory", f"{run.peak_mb:.0f} MB"],
        ["emulator CPU during the apply", f"{emulator_cpu:.1f} s"],
        # Mostly making the objects' inodes, slow after many deletions (as for the client).
        ["of which in the emulator's kernel", f"{emulator_kernel:.1f} s"],
        ["emulator CPU per call", f"{emulator_cpu / max(total_calls, 1) * 1000:.2f} ms"],
        ["calls per item", calls_per_item(stats, items)],
        ["ICE calls in all", total_calls],
        ["throttled answers", ", ".join(f"{op} {throttled.get(op, 0)}" for op in OPERATIONS)],
        ["objects submitted more than once", twice],
    ]
    if args.preset in GOALS:
        met = run.cpu <= 15.0 if args.preset == "issue-10k" else run.seconds <= ideal * 1.2
        met = met and run.code == 0 and states["finished"] == items
        rows.append([f"goal (issue 14): {GOALS[args.preset]}", "met" if met else "NOT met"])
    print(
        f"{items:,} items, {latency:g} s jobs, limits "
        + ", ".join(f"{op} {n:g}/s" for op, n in limits.items())
        + f", apply --parallelism {parallelism}"
        + ("" if args.parallelism else " (its default)")
        + (f" (preset {args.preset})" if args.preset else "")
    )
    print(table(rows))
    if bound > ideal * 1.05:
        print(
            f"\nnote: {parallelism} jobs in flight of {latency:g} s each allow at most"
            f" {parallelism / latency:.0f} items/s, so no apply beats {bound:.1f} s here;"
            f" --parallelism {int(limits[SUBMIT] * latency * 1.5) + 1} would not bind"
        )


if __name__ == "__main__":
    main()
