"""bench/fuzz in small: twenty hostile cases with a fixed seed, run as a user runs it.

The full run (`python bench/fuzz --cases 1000`) is a benchmark; this keeps its case
generator working and catches a traceback, hang or outside write on the cases it draws.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
FUZZ = REPO / "bench" / "fuzz"
SEED = 20240


def load_fuzz() -> ModuleType:
    """The fuzzer's case generator, its package loaded by path under a name of its own."""
    spec = importlib.util.spec_from_file_location(
        "voxform_bench_fuzz", FUZZ / "__init__.py", submodule_search_locations=[str(FUZZ)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package  # dataclasses look their module up by name
    spec.loader.exec_module(package)
    return importlib.import_module(f"{spec.name}.generate")


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


def test_the_old_command_runs_the_package() -> None:
    shim, package = (
        subprocess.run(
            [sys.executable, str(script), "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        for script in (REPO / "bench" / "fuzz.py", FUZZ)
    )
    assert shim.returncode == package.returncode == 0, shim.stderr + package.stderr
    assert "--apply-every" in shim.stdout
    # the same description and options; only the program's name in the usage differs
    assert shim.stdout.split("\n\n", 1)[1] == package.stdout.split("\n\n", 1)[1]


def test_twenty_fuzz_cases_end_without_traceback_hang_or_outside_change() -> None:
    done = subprocess.run(
        [sys.executable, str(FUZZ), "--cases", "20", "--seed", str(SEED), "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert done.stdout.startswith(f"seed {SEED}\n")
    closing = done.stdout.rstrip().splitlines()[-1]
    assert closing.startswith(f"fuzz: 20 cases, seed {SEED}: "), done.stdout + done.stderr
    assert done.returncode == 0, done.stdout
    for count in ("0 tracebacks", "0 hangs", "0 over 500 MB", "0 with files changed outside"):
        assert count in closing
