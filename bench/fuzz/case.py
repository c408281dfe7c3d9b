"""A case on disk: its project, its sentinel beside it, and writing files over whatever an
earlier mutation planted (FIFOs, symlinks, directories)."""

from __future__ import annotations

import os
import random
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .documents import dump_yaml, nodes
from .hostile import Raw


@dataclass
class Case:
    number: int
    root: Path  # ROOT: everything the case may touch lives here
    project: Path
    sentinel: Path
    rng: random.Random
    example: str
    mutations: list[str] = field(default_factory=list)
    raw_manifest: bool = False  # voxform.yaml no longer parses as the example did

    def relative(self, *parts: str) -> Path:
        return self.project.joinpath(*parts)

    def files(self, folder: str, suffixes: tuple[str, ...]) -> list[Path]:
        base = self.relative(folder)
        return (
            sorted(
                p
                for p in base.rglob("*")
                if p.suffix in suffixes and p.is_file() and not p.is_symlink()
            )
            if base.is_dir()
            else []
        )

    def manifest(self) -> dict[str, Any] | None:
        """voxform.yaml parsed, when no earlier mutation made that impossible."""
        if self.raw_manifest:
            return None
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = read_regular(self.relative("voxform.yaml"))
        if data is None:
            return None
        try:
            doc = yaml.load(data, Loader=loader)
        except (yaml.YAMLError, ValueError, RecursionError):
            return None
        return doc if isinstance(doc, dict) else None

    def save_manifest(self, doc: object) -> None:
        self.raw_manifest = any(isinstance(value, Raw) for _, value in nodes(doc))
        self.relative("voxform.yaml").write_bytes(dump_yaml(doc, self.rng))


def read_regular(path: Path, limit: int = 64 << 20) -> bytes | None:
    """The bytes of a regular file that is no symlink and not too big; None for anything else
    (a FIFO or /dev/zero planted by an earlier mutation must not block or fill the fuzzer)."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        return None
    return path.read_bytes()


def write_file(path: Path, data: bytes) -> None:
    """`data` in a regular file at `path`, whatever an earlier mutation planted there (a FIFO
    would block the fuzzer, a symlink would carry the write elsewhere)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        clear(path)
    path.write_bytes(data)


def clear(path: Path) -> None:
    """Nothing at `path` any more (a real directory is removed with what it holds)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
