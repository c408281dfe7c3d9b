"""A project loaded as a command loads it, with the caches of the last one or without."""

from __future__ import annotations

import shutil
from pathlib import Path

from voxform.project import load_project


def everything(root: Path, *, cached: bool) -> tuple[object, ...]:
    """What loading the project at `root` rendered and found, with `.voxform/` as the last
    command left it (`cached`) or with none."""
    if not cached:
        shutil.rmtree(root / ".voxform", ignore_errors=True)
    loaded = load_project(root)
    return tuple(loaded.rendered), tuple(loaded.problems)
