"""`voxform review` of a change to every item of a large local project: cold and cached.

    python bench/review_collect.py [--items 2000] [--repeat 3] [--keep DIR]

Makes a project of ITEMS one-sentence paragraphs (20 Markdown files, the local target,
MP3 at 16 kHz) in a git repository, applies it (not timed), commits it, then adds a lexicon
entry that fires in every paragraph, so that every item is an update with recorded audio
and a preview to make. Then `voxform review --no-refresh` in a subprocess:

- cold: no previews or levels cached, no page folder (removed before each run);
- cached: the same review again (every preview from .voxform/previews/).

Each row: wall seconds, CPU seconds of the whole process tree (the engine's processes
too) and the load average when the run ended; medians of --repeat runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
]
FILES = 20
MANIFEST = """version: 1
name: review-scale
targets:
  local: {provider: local, path: build/audio}
voices:
  narrator: {voice: siqi}
defaults: {voice: narrator, format: mp3, sample_rate: 16000, target: local}
lexicon:
  - {match: SQL, alias: sequel}
sources:
  - id: book
    glob: texts/*.md
    split: paragraph
"""
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def voxform(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "voxform", "-C", str(root), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def make(root: Path, items: int) -> None:
    (root / "texts").mkdir(parents=True)
    per = -(-items // FILES)
    made = 0
    for f in range(FILES):
        count = min(per, items - made)
        if count <= 0:
            break
        paragraphs = [
            f"Paragraph {p} of file {f} reads "
            + " ".join(WORDS[(f + p + k) % len(WORDS)] for k in range(6))
            + " and the widget."
            for p in range(count)
        ]
        (root / "texts" / f"part-{f:02d}.md").write_text("\n\n".join(paragraphs) + "\n")
        made += count
    (root / "voxform.yaml").write_text(MANIFEST)
    (root / ".gitignore").write_text("build/\n.voxform/\n")
    subprocess.run([*GIT, "init", "-q"], cwd=root, check=True)
    applied = voxform(root, "apply", "--yes", "--format", "json")
    if applied.returncode != 0:
        raise SystemExit(f"apply failed: {applied.stderr[-2000:]}")
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "applied"], cwd=root, check=True)
    manifest = root / "voxform.yaml"
    rule = "  - {match: SQL, alias: sequel}"
    manifest.write_text(
        manifest.read_text().replace(rule, f"{rule}\n  - {{match: widget, alias: gadget}}")
    )


def review(root: Path, *, cold: bool) -> tuple[float, float, float, str]:
    if cold:
        shutil.rmtree(root / ".voxform" / "previews", ignore_errors=True)
        shutil.rmtree(root / ".voxform" / "review-levels", ignore_errors=True)
        shutil.rmtree(root / "build" / "review", ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = voxform(root, "review", "--no-refresh")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"review failed: {done.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, os.getloadavg()[0], done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="make the project here")
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="voxform-review-bench-"))
    root = folder / "project"
    if not (root / "voxform.lock").exists():
        make(root, options.items)
    print(f"{options.items} items, {os.cpu_count()} cores, project {root}")
    for name, cold in (("cold", True), ("cached", False)):
        runs = [review(root, cold=cold) for _ in range(options.repeat)]
        walls, cpus, loads = ([r[i] for r in runs] for i in range(3))
        print(
            f"{name:7} wall {statistics.median(walls):6.1f} s  cpu {statistics.median(cpus):6.1f} s"
            f"  (walls {', '.join(f'{w:.1f}' for w in walls)}; load {max(loads):.1f})"
        )
        print(f"        {runs[-1][3]}")
    if options.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
