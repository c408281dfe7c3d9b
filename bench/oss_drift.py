"""Drift for objects: what `voxform plan` asks OSS to check every object an applied ICE
project's lockfile names, and what it costs in wall time, against the emulator. Runs: a plan
with nothing drifted, one after a hundredth of the objects were deleted by hand (the listing
goes to the end of the prefix), and `plan --no-refresh` (no bucket read). Prints a Markdown
table of medians and the OSS calls per 1,000 items (the goal: one list page, not 1,000 heads).

    python bench/oss_drift.py --items 1000 --repeat 3
    python bench/oss_drift.py --items 1000 --src /path/to/other/checkout   # "before"
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from harness import Emulator, code_of, emulator, make_project, table, voxform

LIMITS = {"SubmitAudioProduceJob": 2000.0, "GetSmartHandleJob": 2000.0}


def oss_calls(emu: Emulator) -> dict[str, int]:
    return dict(emu.stats()["oss_calls"])


def planned(
    root: Path, emu: Emulator, src: Path | None, *options: str
) -> tuple[float, dict[str, int], int]:
    """One `plan --json`: its wall time, the OSS calls it made, and its changes."""
    before = oss_calls(emu)
    run = voxform(["-C", str(root), "plan", "--json", *options], url=emu.url, src=src)
    if run.code != 0:
        raise RuntimeError(f"plan failed: {run.output[-2000:]}")
    after = oss_calls(emu)
    document = json.loads(run.output[run.output.index("{") :])
    calls = {op: after[op] - before.get(op, 0) for op in after if after[op] != before.get(op, 0)}
    return run.seconds, calls, len(document["changes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--src", type=Path, default=None, help="checkout whose voxform runs")
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, dict[str, int], int]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        root = make_project(base / "project", args.items, limits=LIMITS)
        with emulator(base / "oss", "--synthesis", "silence", "--latency", "0") as emu:
            applied = voxform(["-C", str(root), "apply", "--yes"], url=emu.url, src=args.src)
            if applied.code != 0:
                raise RuntimeError(f"apply failed: {applied.output[-2000:]}")
            planned(root, emu, args.src)  # warm the caches of the plan itself
            for _ in range(args.repeat):
                rows.setdefault("plan", []).append(planned(root, emu, args.src))
                try:  # a checkout from before the option has no --no-refresh
                    offline = planned(root, emu, args.src, "--no-refresh")
                except RuntimeError:
                    continue
                rows.setdefault("plan --no-refresh", []).append(offline)
            objects = sorted((base / "oss").rglob("*.mp3"))
            for path in objects[:: max(1, len(objects) // max(1, args.items // 100))]:
                path.unlink()
            for _ in range(args.repeat):
                rows.setdefault("plan, 1% deleted by hand", []).append(planned(root, emu, args.src))
    print(f"voxform plan, {args.items} items, {code_of(args.src)}; medians of {args.repeat}")
    out = [["run", "wall (s)", "changes", "ListObjectsV2", "HeadObject", "calls / 1,000 items"]]
    for name, runs in rows.items():
        calls = runs[0][1]
        out.append(
            [
                name,
                f"{statistics.median(r[0] for r in runs):.2f}",
                runs[0][2],
                calls.get("ListObjectsV2", 0),
                calls.get("HeadObject", 0),
                f"{sum(calls.values()) * 1000 / args.items:.1f}",
            ]
        )
    print(table(out))


if __name__ == "__main__":
    main()
