"""Plan at the sizes users have: cold, a second time, after one edit, right after an apply.

    python bench/plan_scale.py [--sizes 1000 10000 100000] [--repeat N] [--target ice|local]
        [--after-apply] [--after-apply-only] [--keep DIR] [--apply-latency 0.3] [--profile]
        [--src CHECKOUT]

For each size, the generated project of issue 14 (100-paragraph Markdown files, two voices,
two templates, the default one with `pause(300)`, MP3), then `voxform plan --json`, each run a
subprocess with its wall time, CPU and peak memory:

- floor: in-process, read the manifest, the templates and every source file, split each on
  blank lines and sha256 each paragraph: what no plan can go below;
- cold: no `.voxform/` (removed before each run);
- second: the same plan once more, nothing changed;
- one edit: one paragraph of one file changed before each run (another file each time);
- after apply (--after-apply, ICE target only): a fresh project applied against `voxform
  emulator --synthesis silence` with every limit at 10,000/s, then one plan (one run, as only
  the first plan after an apply is "right after" it). --after-apply-only: that row alone;
  --keep DIR: the applied project and the emulator's storage kept in DIR and reused, with
  `.voxform/` as the apply left it restored before each of --repeat plans.

Each row says how many times the floor it took, and checks what it printed: a second plan
prints the bytes of the cold one, an edit changes exactly one entry, nothing is pending after
an apply. --profile also runs one cold plan of each size under cProfile and prints its 25
functions of most cumulative time and 12 of most own time (worker processes, if any, are
not in it). With --src, the plans run another checkout's code (its `src/` first on
PYTHONPATH), e.g. a `git worktree` of an older commit; the emulator always runs this
checkout's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import (
    OPERATIONS,
    Run,
    emulator,
    finish,
    make_book,
    median_run,
    preamble,
    start,
    table,
    voxform,
)

PLAN = ["plan", "--json"]
TIMEOUT = 1800.0
# Issue 14's acceptance, by (items, row): seconds (and MB for the cold plan of 100,000).
GOALS = {
    (10_000, "cold"): "0.8 s",
    (100_000, "cold"): "5 s (3 s), 450 MB",
    (100_000, "second"): "1 s",
    (100_000, "one edit"): "1.5 s",
    (10_000, "after apply"): "0.5 s",
}
HIGH = 10_000.0  # calls per second: the most a manifest may state


def floor(root: Path, repeat: int) -> tuple[float, int]:
    """Median seconds to read, split and hash the project in-process, and the paragraphs."""
    times, count = [], 0
    for _ in range(max(repeat, 3)):
        began = time.perf_counter()
        count = 0
        for path in [root / "voxform.yaml", *sorted((root / "templates").glob("*.j2"))]:
            path.read_bytes()
        for path in sorted((root / "texts/books").glob("*.md")):
            for paragraph in path.read_text().split("\n\n"):
                if paragraph.strip():
                    hashlib.sha256(paragraph.strip().encode()).digest()
                    count += 1
        times.append(time.perf_counter() - began)
    return sorted(times)[len(times) // 2], count


def edit_one_paragraph(root: Path, serial: int) -> None:
    """Append a sentence to the middle paragraph of one file (the `serial`-th after the
    middle one), so exactly one item changes and its characters with it."""
    files = sorted((root / "texts/books").glob("*.md"))
    path = files[(len(files) // 2 + serial) % len(files)]
    paragraphs = path.read_text().split("\n\n")
    middle = len(paragraphs) // 2
    paragraphs[middle] += f" The keeper changed this paragraph, edit {serial + 1}."
    path.write_text("\n\n".join(paragraphs))


def changes(run: Run) -> dict[str, object]:
    """The plan's entries by item id (empty when the output is not a plan)."""
    try:
        printed = json.loads(run.output)
    except ValueError:
        return {}
    return {change["id"]: change for change in printed.get("changes", [])}


def differing(before: Run, after: Run) -> int:
    """How many item entries two plans print differently (either side missing counts)."""
    old, new = changes(before), changes(after)
    return sum(1 for key in old.keys() | new.keys() if old.get(key) != new.get(key))


def plans(
    root: Path, src: Path | None, runs: int, before_each: Callable[[int], None] | None = None
) -> list[Run]:
    """`runs` plans of `root`, each preceded by `before_each(n)` when given."""
    done = []
    for n in range(runs):
        if before_each is not None:
            before_each(n)
        done.append(voxform(["-C", str(root), *PLAN], src=src, timeout=TIMEOUT, errors_apart=True))
    return done


def row(items: int, name: str, runs: Sequence[Run], floor_s: float, check: str) -> list[object]:
    run = median_run(runs)
    spread = ""
    if len(runs) > 1:
        low, high = min(r.seconds for r in runs), max(r.seconds for r in runs)
        spread = f" ({low:.2f}-{high:.2f})"
    failed = [r for r in runs if r.code != 0]
    if failed:
        print(f"{name} plan of {items} exited {failed[0].code}:", file=sys.stderr)
        print((failed[0].errors or failed[0].output)[-2000:], file=sys.stderr)
        check = f"exit {failed[0].code}; " + check
    return [
        f"{items:,}",
        name,
        f"{run.seconds:.2f} s{spread}",
        f"{run.cpu:.2f} s",
        f"{run.peak_mb:.0f}",
        f"{run.tree_mb:.0f}",
        f"{run.seconds / floor_s:.0f}x",
        GOALS.get((items, name), "-"),
        check,
    ]


def same(first: Run, runs: Sequence[Run]) -> str:
    identical = all(r.output == first.output for r in runs)
    return "same bytes as cold" if identical else "DIFFERS from cold"


def after_apply(scratch: Path, size: int, args: argparse.Namespace) -> tuple[Run | None, list[Run]]:
    """A fresh project applied against the emulator at high limits, then one plan. With
    --keep DIR, the project and the emulator's storage stay in DIR (an apply only when DIR
    has none yet), `.voxform/` as the apply left it is restored before each of --repeat
    plans, after one plan not measured (the emulator's first listing after a start hashes
    its objects)."""
    keep: Path | None = args.keep
    base = keep.resolve() if keep is not None else scratch
    root, saved = base / "applied", base / "after-apply-state"
    kept = keep is not None and (root / "voxform.lock").exists() and saved.exists()
    if not kept:
        shutil.rmtree(base / "applied", ignore_errors=True)
        shutil.rmtree(base / "oss", ignore_errors=True)
        make_book(root, size, limits=dict.fromkeys(OPERATIONS, HIGH))
    with emulator(
        base / "oss",
        "--latency",
        str(args.apply_latency),
        "--synthesis",
        "silence",
        "--rate-limit",
        f"{HIGH:g}",
    ) as emu:
        apply = None
        if not kept:
            apply = voxform(["-C", str(root), "apply", "--yes"], url=emu.url, src=args.src)
            if apply.code != 0:
                print(
                    f"apply of {size} exited {apply.code}:\n{apply.output[-2000:]}", file=sys.stderr
                )
            if keep is not None:
                shutil.copytree(root / ".voxform", saved)
        runs = 1 if keep is None else args.repeat + 1
        done = []
        for _ in range(runs):
            if keep is not None:
                shutil.rmtree(root / ".voxform")
                shutil.copytree(saved, root / ".voxform")
            command = ["-C", str(root), *PLAN]
            done.append(
                voxform(command, url=emu.url, src=args.src, timeout=TIMEOUT, errors_apart=True)
            )
    if keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return apply, done[1:] if keep is not None else done  # the first one kept: a warm-up


def profile(root: Path, src: Path | None, top: int = 25) -> str:
    """A cold plan of `root` under cProfile: its `top` functions by cumulative time."""
    shutil.rmtree(root / ".voxform", ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="voxform-profile-") as where:
        out = Path(where) / "plan.prof"
        command = [sys.executable, "-m", "cProfile", "-o", str(out), "-m", "voxform"]
        run = finish(start(["-C", str(root), *PLAN], src=src, command=command), timeout=TIMEOUT)
        if not out.exists():
            return f"no profile (exit {run.code}): {run.output[-500:]}"
        stats = pstats.Stats(str(out))
    entries = list(stats.stats.items())  # type: ignore[attr-defined]
    total = max((value[3] for _, value in entries), default=0.0)
    text = f"cold plan under cProfile, {run.seconds:.2f} s wall"
    for title, column in ((f"{top} by cumulative time", 3), (f"{top // 2} by own time", 2)):
        entries.sort(key=lambda kv: kv[1][column], reverse=True)
        rows: list[list[object]] = [["cumulative", "share", "own", "calls", "function"]]
        for (filename, line, function), (_, calls, own, cumulative, _) in entries[
            : top if column == 3 else top // 2
        ]:
            rows.append(
                [
                    f"{cumulative:.3f} s",
                    f"{cumulative / total:.0%}" if total else "-",
                    f"{own:.3f} s",
                    calls,
                    f"`{short(filename)}:{line}({function})`",
                ]
            )
        text += f"\n\n{title}:\n" + table(rows)
    return text


def short(filename: str) -> str:
    """A profiled file's path from its package down (`voxform/render/render.py`)."""
    for marker in ("/site-packages/", "/src/", "/lib/python3.11/"):
        if marker in filename:
            return filename.rsplit(marker, 1)[1]
    return filename


def measure(size: int, args: argparse.Namespace, scratch: Path) -> list[list[object]]:
    root = scratch / "project"
    items = make_book(root, size, target=args.target)
    floor_s, paragraphs = floor(root, args.repeat)
    rows: list[list[object]] = []
    if args.after_apply_only:
        return rows + after_apply_row(items, args, scratch, floor_s)
    rows += [
        [
            f"{items:,}",
            "floor",
            f"{floor_s:.3f} s",
            "-",
            "-",
            "-",
            "1x",
            "-",
            f"{paragraphs:,} paragraphs",
        ]
    ]

    def cold(_: int) -> None:
        shutil.rmtree(root / ".voxform", ignore_errors=True)

    cold_runs = plans(root, args.src, args.repeat, cold)
    counted = len(changes(cold_runs[0]))
    rows.append(row(items, "cold", cold_runs, floor_s, f"{counted:,} changes"))
    second = plans(root, args.src, args.repeat)
    rows.append(row(items, "second", second, floor_s, same(cold_runs[0], second)))
    edited: list[Run] = []
    previous = second[-1]
    counts = []
    for n in range(args.repeat):
        edit_one_paragraph(root, n)
        edited += plans(root, args.src, 1)
        counts.append(differing(previous, edited[-1]))
        previous = edited[-1]
    check = "1 entry changed" if set(counts) == {1} else f"entries changed: {counts} (not 1)"
    rows.append(row(items, "one edit", edited, floor_s, check))
    if args.profile:
        print(profile(root, args.src), end="\n\n")
    shutil.rmtree(root, ignore_errors=True)
    if args.after_apply:
        rows += after_apply_row(items, args, scratch, floor_s)
    return rows


def after_apply_row(
    items: int, args: argparse.Namespace, scratch: Path, floor_s: float
) -> list[list[object]]:
    apply, plans_run = after_apply(scratch, items, args)
    pending = max(len(changes(plan)) for plan in plans_run)
    if apply is not None:
        print(
            f"apply of {items:,} before 'after apply': exit {apply.code}, {apply.seconds:.1f} s,"
            f" client CPU {apply.cpu:.1f} s, {apply.peak_mb:.0f} MB",
            file=sys.stderr,
        )
    good = pending == 0 and all(plan.code == 0 for plan in plans_run)
    check = "nothing pending" if good else f"{pending} pending"
    return [row(items, "after apply", plans_run, floor_s, check)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=1, help="median of N runs of each plan")
    parser.add_argument("--target", choices=("ice", "local"), default="ice")
    parser.add_argument("--after-apply", action="store_true")
    parser.add_argument(
        "--after-apply-only", action="store_true", help="only the after-apply row (no others)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the applied project and the emulator's storage in DIR, and reuse them",
    )
    parser.add_argument("--apply-latency", type=float, default=0.3, help="seconds per job")
    parser.add_argument("--profile", action="store_true", help="also a cold plan under cProfile")
    parser.add_argument("--src", type=Path, default=None, help="the checkout whose code to run")
    args = parser.parse_args()
    args.after_apply = args.after_apply or args.after_apply_only
    if args.after_apply and args.target != "ice":
        parser.error("--after-apply applies against the emulator: it needs --target ice")
    if args.keep is not None and len(args.sizes) != 1:
        parser.error("--keep keeps one applied project: give one size")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    preamble(args.src)
    rows: list[list[object]] = [
        ["items", "plan", "wall", "CPU", "peak MB", "tree MB", "x floor", "goal", "check"]
    ]
    with tempfile.TemporaryDirectory(prefix="voxform-plan-scale-") as scratch:
        warm = Path(scratch) / "warm-up"  # compiles the code measured, so no row pays for it
        make_book(warm, 10, target=args.target)
        voxform(["-C", str(warm), *PLAN], src=args.src)
        shutil.rmtree(warm)
        for size in args.sizes:
            rows += measure(size, args, Path(scratch))
            print(f"done: {size} items", file=sys.stderr)
    print(
        f"`voxform plan --json`, {args.target} target, median of {args.repeat}; peak MB: the"
        " largest process (wait4), tree MB: the process tree sampled every 0.1 s"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
