"""`voxform pull` of an applied ICE project against the emulator: wall time and OSS calls of
a first pull (every object downloaded), a second one (nothing to download), and one after a
tenth of the files were deleted by hand. Prints a Markdown table of medians.

    python bench/pull_speed.py --items 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
from pathlib import Path

from harness import code_of, emulator, make_project, table, voxform

LIMITS = {"SubmitAudioProduceJob": 2000.0, "GetSmartHandleJob": 2000.0}


def pulled(root: Path, url: str, src: Path | None) -> tuple[float, dict[str, int], int]:
    run = voxform(["-C", str(root), "pull", "--json"], url=url, src=src)
    if run.code != 0:
        raise RuntimeError(f"pull failed: {run.output[-2000:]}")
    document = json.loads(run.output[run.output.index("{") :])
    return run.seconds, document["calls"], len(document["downloaded"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--src", type=Path, default=None, help="checkout whose voxform runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        root = make_project(base / "project", args.items, limits=LIMITS)
        with emulator(base / "oss", "--synthesis", "silence", "--latency", "0") as emu:
            os.environ["VOXFORM_OSS_ENDPOINT"] = emu.url
            applied = voxform(["-C", str(root), "apply", "--yes"], url=emu.url, src=args.src)
            if applied.code != 0:
                raise RuntimeError(f"apply failed: {applied.output[-2000:]}")
            rows: dict[str, list[tuple[float, dict[str, int], int]]] = {}
            for _ in range(args.repeat):
                shutil.rmtree(root / "build", ignore_errors=True)
                (root / ".voxform/pull-record.json").unlink(missing_ok=True)
                rows.setdefault("first pull", []).append(pulled(root, emu.url, args.src))
                rows.setdefault("second pull", []).append(pulled(root, emu.url, args.src))
                files = sorted((root / "build").rglob("*.mp3"))
                for path in files[:: max(1, len(files) // (args.items // 10 or 1))]:
                    path.unlink()
                rows.setdefault("after deleting 10%", []).append(pulled(root, emu.url, args.src))
    print(f"voxform pull, {args.items} items, {code_of(args.src)}; medians of {args.repeat}")
    out = [["run", "wall (s)", "downloaded", "GetObject", "ListObjectsV2", "calls / 1,000"]]
    for name, runs in rows.items():
        calls = runs[0][1]
        total = sum(calls.values())
        out.append(
            [
                name,
                f"{statistics.median(r[0] for r in runs):.2f}",
                runs[0][2],
                calls.get("GetObject", 0),
                calls.get("ListObjectsV2", 0),
                f"{total * 1000 / args.items:.0f}",
            ]
        )
    print(table(out))


if __name__ == "__main__":
    main()
