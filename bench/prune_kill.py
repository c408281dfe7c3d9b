"""`kill -9` in the middle of `apply --prune` deleting 500 objects, then apply again, against
the emulator: every removed item's object must be gone, the lockfile consistent (only the
kept items, no journal left) and nothing else deleted (a user's object under the prefix, the
kept items' objects). Each trial stops the prune at another moment: while the plan reads
the bucket, while the prune looks again, just after its DeleteObjects call. The prune runs
against a second emulator over the same bucket whose every call is held a while, so the
kill lands inside it. Prints one row per trial.

    python bench/prune_kill.py --removed 500 --trials 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import tempfile
import time
from pathlib import Path

from harness import code_of, emulator, finish, make_project, start, table, voxform

LIMITS = {"SubmitAudioProduceJob": 2000.0, "GetSmartHandleJob": 2000.0}
KEPT = 100  # items (one text file) that stay
MOMENTS = [("ListObjectsV2", 1), ("ListObjectsV2", 2), ("DeleteMultipleObjects", 1)]
DEADLINE = 120.0


def objects(bucket: Path) -> set[str]:
    return {p.relative_to(bucket).as_posix() for p in bucket.rglob("*") if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--removed", type=int, default=500, help="a multiple of 100")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--src", type=Path, default=None, help="checkout whose voxform runs")
    args = parser.parse_args()
    rows = [["trial", "killed after", "objects left at the kill", "recovery (s)", "consistent"]]
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        root = make_project(base / "project", KEPT + args.removed, limits=LIMITS)
        aside = base / "aside"
        aside.mkdir()
        storage = base / "oss"
        bucket = storage / "bench-audio" / "b"
        with emulator(storage, "--synthesis", "silence", "--latency", "0") as emu:
            for trial in range(args.trials):
                for path in sorted(aside.iterdir()):  # the removed texts back: made again
                    shutil.move(path, root / "texts" / path.name)
                applied = voxform(["-C", str(root), "apply", "--yes"], url=emu.url, src=args.src)
                if applied.code != 0:
                    raise RuntimeError(f"apply failed: {applied.output[-2000:]}")
                (bucket / "mine.mp3").write_bytes(b"a user's own take")
                before = objects(bucket)
                for path in sorted((root / "texts").iterdir())[1:]:
                    shutil.move(path, aside / path.name)
                removed = {o for o in before if not o.startswith("book/part0000/")} - {"mine.mp3"}
                operation, count = MOMENTS[trial % len(MOMENTS)]
                prune = ["-C", str(root), "apply", "--yes", "--prune", "--max-delete", "100%"]
                slow = ("--slow-requests", "1", "--slow-seconds", "0.3")
                with emulator(storage, *slow) as held:
                    started = start(prune, url=held.url, src=args.src)
                    deadline = time.monotonic() + DEADLINE
                    while held.stats()["oss_calls"][operation] < count:
                        if started.process.poll() is not None or time.monotonic() > deadline:
                            break
                        time.sleep(0.01)
                    started.process.send_signal(signal.SIGKILL)
                    finish(started)
                left = len(objects(bucket))
                again = voxform(prune, url=emu.url, src=args.src)
                lock = json.loads((root / "voxform.lock").read_text())["items"]
                consistent = (
                    again.code == 0
                    and objects(bucket) == before - removed
                    and len(lock) == KEPT
                    and not (root / ".voxform" / "voxform.lock.journal").exists()
                )
                moment = f"{operation} #{count}"
                rows.append([trial + 1, moment, left, f"{again.seconds:.2f}", consistent])
    print(f"kill -9 during a prune of {args.removed} objects, {code_of(args.src)}")
    print(table(rows))


if __name__ == "__main__":
    main()
