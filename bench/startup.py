"""How fast commands start: `voxform --version`, `--help` and `validate` of the quickstart.

    python bench/startup.py [--repeat 10] [--imports] [--src CHECKOUT]

Each command runs REPEAT times as a subprocess, the way a user or a pre-commit hook starts it
(the `voxform` console script next to this Python, else `python -m voxform`); the table gives
the median, the fastest and the CPU of the median run, against issue 14's goals, and the
interpreter's own start (`python -c pass`) as the floor. `validate` runs in a temporary copy
of the git-tracked files of examples/quickstart. With --imports, one `voxform --version` and
one `validate` run under `python -X importtime`: how many modules each imports (voxform's own
by name) and the 15 that cost the most, their imports included. With --src the commands run
another checkout's code (its `src/` first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import CHECKOUT, Run, finish, median_run, preamble, start, table

QUICKSTART = "examples/quickstart"
GOALS = {"--version": 0.15, "--help": 0.15, "validate": 0.3}  # seconds, issue 14


def voxform_command() -> list[str]:
    script = Path(sys.executable).parent / "voxform"
    return [str(script)] if script.exists() else [sys.executable, "-m", "voxform"]


def copy_quickstart(into: Path) -> Path:
    """The git-tracked files of the quickstart, copied to `into`."""
    listed = subprocess.run(
        ["git", "-C", str(CHECKOUT), "ls-files", "-z", "--", QUICKSTART],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split("\0")):
        target = into / Path(name).relative_to(QUICKSTART)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / name, target)
    return into


def runs(command: list[str], args: list[str], repeat: int, src: Path | None) -> list[Run]:
    done = [finish(start(args, src=src, command=command), timeout=60) for _ in range(repeat)]
    for run in done:
        if run.code != 0:
            raise SystemExit(f"{' '.join([*command, *args])} exited {run.code}:\n{run.output}")
    return done


def imports(command: list[str], args: list[str], src: Path | None) -> str:
    """What `voxform ARGS` imports, from `python -X importtime`."""
    if command[0] != sys.executable:
        command = [sys.executable, "-X", "importtime", command[0]]
    else:
        command = [sys.executable, "-X", "importtime", *command[1:]]
    run = finish(start(args, src=src, command=command, errors_apart=True), timeout=60)
    entries = []  # (cumulative microseconds, depth, module)
    for line in run.errors.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        entries.append((int(cumulative), depth, name.strip()))
    own = sorted(name for _, _, name in entries if name.split(".")[0] == "voxform")
    top = sorted(entries, reverse=True)[:15]
    rows: list[list[object]] = [["cumulative", "depth", "module"]]
    rows += [[f"{us / 1000:.1f} ms", depth, f"`{name}`"] for us, depth, name in top]
    emulator = "yes" if any(".emulator" in name for name in own) else "no"
    name = "validate" if "validate" in args else " ".join(args)
    return (
        f"`voxform {name}` imports {len(entries)} modules, {len(own)} of voxform's"
        f" (the emulator's among them: {emulator}):\n{', '.join(own)}\n\n" + table(rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--imports", action="store_true", help="also what --version imports")
    parser.add_argument("--src", type=Path, default=None, help="the checkout whose code to run")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    preamble(args.src)
    command = voxform_command()
    with tempfile.TemporaryDirectory(prefix="voxform-startup-") as scratch:
        project = copy_quickstart(Path(scratch) / "quickstart")
        runs(command, ["--version"], 1, args.src)  # compiles the code measured, untimed
        measured = {
            "python -c pass": runs([sys.executable, "-c", "pass"], [], args.repeat, args.src),
            "--version": runs(command, ["--version"], args.repeat, args.src),
            "--help": runs(command, ["--help"], args.repeat, args.src),
            "validate": runs(command, ["-C", str(project), "validate"], args.repeat, args.src),
        }
        measured_args = (["--version"], ["-C", str(project), "validate"])
        imported = [imports(command, a, args.src) for a in measured_args] if args.imports else []
    rows: list[list[object]] = [["command", "median", "fastest", "CPU", "goal", "verdict"]]
    for name, done in measured.items():
        run = median_run(done)
        goal = GOALS.get(name)
        verdict = "-" if goal is None else ("met" if run.seconds <= goal else "NOT met")
        label = name if name.startswith("python") else f"voxform {name}"
        rows.append(
            [
                f"`{label}`",
                f"{run.seconds:.3f} s",
                f"{min(r.seconds for r in done):.3f} s",
                f"{run.cpu:.3f} s",
                "-" if goal is None else f"{goal:g} s",
                verdict,
            ]
        )
    print(f"{' '.join(command)}, median of {args.repeat} runs each")
    print(table(rows))
    for text in imported:
        print()
        print(text)


if __name__ == "__main__":
    main()
