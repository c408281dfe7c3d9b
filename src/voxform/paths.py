"""Keeping every path a manifest names inside the project root."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from voxform.errors import PathEscapeError


def inside(root: Path, relative: str) -> Path:
    """Resolve `relative` under `root`; refuse absolute paths, `..` and escaping symlinks."""
    if not relative or relative.startswith(("/", "\\")) or PurePosixPath(relative).is_absolute():
        raise PathEscapeError(f"{relative!r} is absolute; paths must be relative to the project")
    if len(relative) > 1 and relative[1] == ":":
        raise PathEscapeError(f"{relative!r} is absolute; paths must be relative to the project")
    real_root = root.resolve()
    candidate = (real_root / relative).resolve()
    if candidate != real_root and real_root not in candidate.parents:
        raise PathEscapeError(f"{relative!r} escapes the project root")
    return candidate


def relative_to_root(root: Path, path: Path) -> str:
    """A project-relative POSIX path for messages and the lockfile."""
    return Path(os.path.relpath(path, root.resolve())).as_posix()
