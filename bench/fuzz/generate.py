"""Case generation: the examples copied once, then case N built from `Random(seed + N)` with
one to three mutations; the same seed gives the same cases."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

from .case import Case
from .mutate_project import (
    mutate_include,
    mutate_manifest,
    mutate_manifest_bytes,
    mutate_template,
    mutate_text,
)
from .mutate_state import mutate_journal, mutate_lockfile, mutate_plant

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ("quickstart", "ice-emulator")


# name, weight, weight when the case applies: an apply needs a manifest that still loads to
# write anything, so those cases lean on the lockfile, the journal, texts and plants.
MUTATORS: list[tuple[str, int, int]] = [
    ("manifest", 5, 1),
    ("bytes", 2, 0),
    ("include", 1, 0),
    ("template", 4, 1),
    ("text", 3, 2),
    ("lock", 4, 4),
    ("journal", 1, 2),
    ("plant", 3, 5),
]


def mutate(case: Case, template: Path, applies: bool) -> None:
    names = [n for n, _, _ in MUTATORS]
    weights = [apply_weight if applies else weight for _, weight, apply_weight in MUTATORS]
    for name in case.rng.choices(names, weights, k=case.rng.randint(1, 3)):
        if name == "manifest":
            note = mutate_manifest(case)
        elif name == "bytes":
            note = mutate_manifest_bytes(case)
        elif name == "include":
            note = mutate_include(case)
        elif name == "template":
            note = mutate_template(case)
        elif name == "text":
            note = mutate_text(case)
        elif name == "lock":
            note = mutate_lockfile(case, template)
        elif name == "journal":
            note = mutate_journal(case, template)
        else:
            note = mutate_plant(case, template)
        case.mutations.append(note)


def tracked_files(example: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "."],
        cwd=REPO / "examples" / example,
        capture_output=True,
        check=True,
    )
    return sorted(n for n in listed.stdout.decode().split("\0") if n)


def make_templates(base: Path, env: dict[str, str]) -> Path:
    """One copy of each example as git tracks it; the quickstart applied once for real."""
    templates = base / "templates"
    for example in EXAMPLES:
        for name in tracked_files(example):
            target = templates / example / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / "examples" / example / name, target)
    quickstart = templates / "quickstart"
    done = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(quickstart), "apply", "--yes"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 or not (quickstart / "voxform.lock").is_file():
        raise SystemExit(f"the quickstart did not apply:\n{done.stdout}{done.stderr}")
    return templates


def build_case(number: int, seed: int, base: Path, templates: Path, applies: bool = False) -> Case:
    """Case `number`'s directory tree under base/case-NUMBER, mutated; the same every time."""
    rng = random.Random(seed + number)
    root = base / f"case-{number}"
    if root.exists():
        shutil.rmtree(root)
    example = rng.choices(EXAMPLES, weights=(3, 1))[0]
    project, sentinel = root / "p/q/project", root / "p/q/sentinel"
    shutil.copytree(templates / example, project, symlinks=True)
    if example == "quickstart" and rng.random() < 0.15:
        shutil.rmtree(project / "build")  # a fresh clone: the audio is not there
    for folder in ("dir", "state", "build"):
        (sentinel / folder).mkdir(parents=True)
    for where in (root, root / "p", root / "p/q", sentinel):
        (where / "victim.txt").write_text("must not change\n")
    (sentinel / "secret.md").write_text("A secret from outside the project.\n")
    (sentinel / "secret.j2").write_text("<speak>{{ text }} secret</speak>\n")
    shutil.copyfile(templates / "quickstart" / "voxform.lock", sentinel / "lock.json")
    (root / "home").mkdir()
    case = Case(number, root, project, sentinel, rng, example)
    mutate(case, templates, applies)
    return case
