"""A review of thousands of changed items: how long `voxform review` takes, and how fast its
page opens in Chromium.

    python bench/review_scale.py [--items 2000] [--repeat 3] [--loads 5] [--keep DIR]

The generated project of issue 14 (bench/harness.py make_book) with a local target, applied
and committed in a git repository; then every paragraph gets one word changed, so every item
is an update whose text before is known (from HEAD). Then, each run a subprocess with its
wall time, its CPU (user + system of voxform and the processes it reaped: the local engine's
workers) and peak memory:

- cold: `voxform review` with no previews cached and no page folder (both removed first);
- cached: the same review again, every preview cached by its audio digest.

The page of the last run is opened from disk (file://) in headless Chromium (the system's:
VOXFORM_CHROMIUM, or chromium / chromium-browser on PATH, driven by playwright) `--loads`
times, each in a fresh context: milliseconds from navigation start to the load event and to
the first contentful paint (medians, with the spread), the page's bytes, its cards, and
whether the console stayed clean. Issue 16's goals: written within 30 s, loaded within 2 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import Run, make_book, median_run, preamble, table, voxform

TIMEOUT = 3600.0
LOAD = """() => {
  const [nav] = performance.getEntriesByType("navigation");
  const [paint] = performance.getEntriesByName("first-contentful-paint");
  return {load: nav.loadEventEnd, paint: paint ? paint.startTime : null,
          cards: document.querySelectorAll("article.item").length};
}"""


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com",
         "-c", "commit.gpgsign=false", *args],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def change_every_paragraph(root: Path) -> int:
    """One word of each paragraph replaced (another word each time): every item updates."""
    changed = 0
    for path in sorted((root / "texts/books").glob("*.md")):
        paragraphs = path.read_text().split("\n\n")
        for n, paragraph in enumerate(paragraphs):
            words = paragraph.split(" ")
            if len(words) > 2:
                at = 1 + n % (len(words) - 2)
                words[at] = "reviewed" if words[at] != "reviewed" else "heard"
                paragraphs[n] = " ".join(words)
                changed += 1
        path.write_text("\n\n".join(paragraphs))
    return changed


def chromium() -> str | None:
    named = os.environ.get("VOXFORM_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


def page_loads(index: Path, loads: int) -> tuple[list[dict[str, float]], list[str]]:
    """`loads` openings of the page from disk in fresh contexts; timings and console errors."""
    from playwright.sync_api import sync_playwright

    path = chromium()
    if path is None:
        raise SystemExit("no Chromium: set VOXFORM_CHROMIUM or install the chromium package")
    timings: list[dict[str, float]] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True)
        try:
            for _ in range(loads):
                context = browser.new_context()
                page = context.new_page()
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.goto(index.as_uri(), wait_until="load")
                timings.append(page.evaluate(LOAD))
                context.close()
        finally:
            browser.close()
    return timings, errors


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def review_row(name: str, runs: list[Run], goal: str) -> list[object]:
    run = median_run(runs)
    low, high = min(r.seconds for r in runs), max(r.seconds for r in runs)
    failed = [r for r in runs if r.code != 0]
    summary = re.search(r"previews: .*", run.output)
    check = summary.group(0) if summary else run.output.strip()[-200:]
    if failed:
        check = f"exit {failed[0].code}: {failed[0].output.strip()[-300:]}"
    return [
        name,
        f"{run.seconds:.1f} s ({low:.1f}-{high:.1f})",
        f"{run.cpu:.1f} s",
        f"{run.peak_mb:.0f}",
        goal,
        check,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each review (median)")
    parser.add_argument("--loads", type=int, default=5, help="openings of the page in Chromium")
    parser.add_argument("--keep", type=Path, default=None, help="build the project here")
    args = parser.parse_args()
    preamble()
    with tempfile.TemporaryDirectory(prefix="voxform-review-scale-") as scratch:
        root = (args.keep or Path(scratch)) / "project"
        if root.exists():
            shutil.rmtree(root)
        items = make_book(root, args.items, target="local")
        began = time.monotonic()
        applied = voxform(["-C", str(root), "apply", "--yes"], timeout=TIMEOUT)
        if applied.code != 0:
            raise SystemExit(f"apply exited {applied.code}:\n{applied.output[-2000:]}")
        print(f"applied {items} items in {time.monotonic() - began:.0f} s", file=sys.stderr)
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "narration")
        changed = change_every_paragraph(root)
        review = ["-C", str(root), "review"]
        cold: list[Run] = []
        cached: list[Run] = []
        for _ in range(args.repeat):
            shutil.rmtree(root / ".voxform" / "previews", ignore_errors=True)
            shutil.rmtree(root / "build" / "review", ignore_errors=True)
            cold.append(voxform(review, timeout=TIMEOUT))
            cached.append(voxform(review, timeout=TIMEOUT))
        index = root / "build" / "review" / "index.html"
        timings, errors = page_loads(index, args.loads)
        load_avg = ", ".join(f"{n:.2f}" for n in os.getloadavg())
        print(f"`voxform review` of {items} items ({changed} changed), median of {args.repeat};")
        print("CPU: user + system of voxform and the workers it reaped")
        print(table([
            ["review", "wall", "CPU", "peak MB", "goal", "check"],
            review_row("cold", cold, "30 s"),
            review_row("cached", cached, "-"),
        ]))  # fmt: skip
        print()
        size = index.stat().st_size
        cards = {int(t["cards"]) for t in timings}
        print(f"page: {size / 2**20:.1f} MB, {cards} cards; Chromium, {args.loads} loads from")
        print("disk, each in a fresh context, ms from navigation start, median (min-max):")
        print(table([
            ["load event", "first contentful paint", "goal", "console errors"],
            [
                spread([t["load"] for t in timings]),
                spread([t["paint"] for t in timings if t["paint"] is not None]),
                "2000",
                len(errors),
            ],
        ]))  # fmt: skip
        print(f"\nload average at the end: {load_avg}")


if __name__ == "__main__":
    main()
