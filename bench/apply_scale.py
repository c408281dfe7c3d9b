"""Apply at the sizes users have: wall time, client CPU, peak memory, and the plan after.

    python bench/apply_scale.py [--sizes 1000 10000] [--limit 200] [--latency 1.0]

For each size: a generated project of that many paragraphs, `voxform emulator --synthesis
silence` with generous per-operation limits (the manifest states them too), one `voxform
apply --yes`, then `voxform plan --detailed-exitcode` on the result (it must say no changes).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import emulator, make_project, rate_limit_options, table, voxform

SUBMIT, GET = "SubmitAudioProduceJob", "GetSmartHandleJob"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--limit", type=float, default=200.0, help="submissions per second")
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    limits = {SUBMIT: args.limit, GET: args.limit * 2}
    rows: list[list[object]] = [
        [
            "items",
            "apply exit",
            "finished",
            "wall",
            "client CPU",
            "peak memory",
            "items/s",
            "plan after: exit",
            "plan after: wall",
            "plan CPU",
        ]
    ]
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="voxform-scale-") as scratch:
            root = make_project(Path(scratch) / "project", size, limits=limits)
            with emulator(
                Path(scratch) / "oss",
                "--latency",
                str(args.latency),
                "--synthesis",
                "silence",
                *rate_limit_options(limits),
            ) as emu:
                run = voxform(["-C", str(root), "apply", "--yes"], url=emu.url)
                plan = voxform(["-C", str(root), "plan", "--detailed-exitcode"], url=emu.url)
            if run.code != 0:
                print(run.output[-3000:])
            lock = json.loads((root / "voxform.lock").read_text())["items"]
            finished = sum(1 for e in lock.values() if e["state"] == "finished")
            rows.append(
                [
                    size,
                    run.code,
                    finished,
                    f"{run.seconds:.1f} s",
                    f"{run.cpu:.1f} s",
                    f"{run.peak_mb:.0f} MB",
                    f"{size / run.seconds:.0f}",
                    plan.code,
                    f"{plan.seconds:.2f} s",
                    f"{plan.cpu:.2f} s",
                ]
            )
            print(f"done: {size} items", file=sys.stderr)
    print(f"emulator: --synthesis silence, {args.latency:g} s jobs, submit {args.limit:g}/s")
    print(table(rows))


if __name__ == "__main__":
    main()
