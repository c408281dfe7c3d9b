"""A rename of every source file of an applied ICE project, applied against the emulator
with reuse (each item copied from its old one: CopyObject, nothing synthesized) and without
it (every new id `--replace`d: synthesized again), both with `--prune`. Prints the median
wall time of each, their ratio, and the calls each made at the emulator.

    python bench/oss_reuse.py --items 1000 --repeat 3

The emulator answers jobs after `--latency` seconds and takes submissions at `--rate` per
second (the target states the same limits), as a service would: synthesis is paced, copies
are not paid for.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

from harness import (
    SUBMIT,
    Emulator,
    emulator,
    make_project,
    preamble,
    rate_limit_options,
    table,
    voxform,
)


def renamed(applied: Path, work: Path) -> Path:
    """A copy of the applied project with every source file renamed (each item a new id)."""
    shutil.copytree(applied, work, symlinks=True)
    for path in sorted((work / "texts").glob("part*.md")):
        path.rename(path.with_name(path.name.replace("part", "chapter")))
    return work


def measure(
    emu: Emulator, root: Path, *, reuse: bool, src: Path | None
) -> tuple[float, dict[str, int]]:
    """Wall time of `apply --prune` of the rename, and the calls it made by operation."""
    plan = voxform(["-C", str(root), "plan", "--json"], url=emu.url, src=src)
    changes = json.loads(plan.output[plan.output.index("{") :])["changes"]
    new = [c["id"] for c in changes if c["action"] in ("copy", "create")]
    forced = [] if reuse else [option for i in new for option in ("--replace", i)]
    before = emu.stats()
    args = ["-C", str(root), "apply", "--prune", "--yes", "--max-delete", "100%", *forced]
    run = voxform(args, url=emu.url, src=src)
    if run.code != 0:
        raise RuntimeError(f"apply failed: {run.output[-2000:]}")
    after = emu.stats()
    calls = {
        op: after[kind].get(op, 0) - before[kind].get(op, 0)
        for kind in ("calls", "oss_calls")
        for op in after[kind]
    }
    return run.seconds, {op: n for op, n in calls.items() if n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds a job takes")
    parser.add_argument("--rate", type=float, default=50.0, help="submissions per second")
    parser.add_argument("--src", type=Path, default=None, help="checkout whose voxform runs")
    args = parser.parse_args()
    preamble(args.src)
    limits = {SUBMIT: args.rate, "GetSmartHandleJob": args.rate * 2}
    times: dict[str, list[float]] = {"with reuse": [], "without reuse": []}
    calls: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        applied = make_project(base / "applied", args.items, limits=limits)
        options = ["--synthesis", "silence", "--latency", str(args.latency)]
        with emulator(base / "oss", *options, *rate_limit_options(limits)) as emu:
            first = voxform(["-C", str(applied), "apply", "--yes"], url=emu.url, src=args.src)
            if first.code != 0:
                raise RuntimeError(f"apply failed: {first.output[-2000:]}")
            for n in range(args.repeat):
                for name, reuse in (("with reuse", True), ("without reuse", False)):
                    work = renamed(applied, base / f"{'reuse' if reuse else 'synth'}{n}")
                    seconds, made = measure(emu, work, reuse=reuse, src=args.src)
                    times[name].append(seconds)
                    calls[name] = made
                    shutil.rmtree(work)
    print(
        f"rename of {args.items} items, apply --prune; job latency {args.latency:g} s, "
        f"{args.rate:g} submissions/s; medians of {args.repeat}"
    )
    rows: list[list[object]] = [["apply", "wall (s)", "runs (s)", "calls at the emulator"]]
    for name, runs in times.items():
        made = ", ".join(f"{op} {n}" for op, n in sorted(calls[name].items()))
        shown = ", ".join(f"{s:.2f}" for s in runs)
        rows.append([name, f"{statistics.median(runs):.2f}", shown, made])
    print(table(rows))
    ratio = statistics.median(times["without reuse"]) / statistics.median(times["with reuse"])
    print(f"\nwithout / with reuse: {ratio:.1f}x")


if __name__ == "__main__":
    main()
