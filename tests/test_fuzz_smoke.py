"""bench/fuzz.py in small: twenty hostile cases with a fixed seed, run as a user runs it.

The full run (`python bench/fuzz.py --cases 1000`) is a benchmark; this keeps its case
generator working and catches a traceback, hang or outside write on the cases it draws.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
FUZZ = REPO / "bench" / "fuzz.py"
SEED = 20240


def load_fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("voxform_bench_fuzz", FUZZ)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def tree(root: Path) -> dict[str, bytes]:
    """Every entry under `root`, with `root` itself spelt ROOT in contents and link targets."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = b"-> " + os.readlink(path).replace(str(root), "ROOT").encode()
        elif path.is_file():
            found[name] = path.read_bytes().replace(str(root).encode(), b"ROOT")
        else:
            found[name] = b"dir" if path.is_dir() else b"special"
    return found


def test_a_fuzz_case_is_built_the_same_every_time(tmp_path: Path) -> None:
    fuzz = load_fuzz()
    templates = fuzz.make_templates(tmp_path, dict(os.environ))
    for number in range(12):
        applies = number % 10 == 0
        first = fuzz.build_case(number, SEED, tmp_path / "a", templates, applies)
        second = fuzz.build_case(number, SEED, tmp_path / "b", templates, applies)
        assert first.mutations == [
            m.replace(str(second.root), str(first.root)) for m in second.mutations
        ]
        assert tree(first.root) == tree(second.root), number


def test_twenty_fuzz_cases_end_without_traceback_hang_or_outside_change() -> None:
    done = subprocess.run(
        [sys.executable, str(FUZZ), "--cases", "20", "--seed", str(SEED), "--jobs", "2"],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )
    assert done.stdout.startswith(f"seed {SEED}\n")
    closing = done.stdout.rstrip().splitlines()[-1]
    assert closing.startswith(f"fuzz: 20 cases, seed {SEED}: "), done.stdout + done.stderr
    assert done.returncode == 0, done.stdout
    for count in ("0 tracebacks", "0 hangs", "0 over 500 MB", "0 with files changed outside"):
        assert count in closing
