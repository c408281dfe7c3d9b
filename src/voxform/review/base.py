"""The project as a git commit holds it: its files written out of git objects into a
temporary folder (never a checkout over the user's tree), loaded and rendered there with the
lockfile of that commit; the folder goes when the review is written."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voxform.errors import ManifestError, VoxformError
from voxform.project import LoadedProject, load_project
from voxform.state.lockfile import LOCKFILE

GIT_TIMEOUT = 120.0  # seconds for one git command


class BaseError(VoxformError):
    """REF cannot be read: not a git repository, an unknown ref, no project in it."""


@dataclass(frozen=True)
class Base:
    """The project at a commit."""

    ref: str  # as the user named it
    commit: str  # its full commit id
    loaded: LoadedProject  # loaded from the temporary folder (gone after `base_project`)

    @property
    def label(self) -> str:
        return f"{self.ref} ({self.commit[:7]})"


def repository(root: Path) -> tuple[Path, str] | None:
    """The top of the git work tree holding `root` and the project's folder in it (POSIX,
    "" at the top); None when `root` is in no git work tree (or git is missing)."""
    try:
        done = _git(root, "rev-parse", "--show-toplevel", "--show-prefix")
    except (BaseError, OSError):
        return None
    top, _, prefix = done.decode("utf-8", "surrogateescape").partition("\n")
    return Path(top), prefix.strip().rstrip("/")


@contextlib.contextmanager
def base_project(root: Path, ref: str, lockfile: Path | None = None) -> Iterator[Base]:
    """The project in `root` as commit `ref` holds it, loaded from a temporary folder that
    is removed on the way out. `lockfile`: the lockfile's path in the work tree, when not
    the project's voxform.lock (read at `ref` from the same place). BaseError naming `ref`
    when it cannot be read."""
    where = repository(root)
    if where is None:
        raise BaseError(
            f"--base {ref}: {root} is not in a git repository (a base is read from git)"
        )
    top, prefix = where
    try:
        commit = _git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
        )
    except BaseError:
        raise BaseError(f"--base {ref}: no such commit in the repository at {top}") from None
    commit_id = commit.decode().strip()
    tree = f"{commit_id}:{prefix}" if prefix else commit_id
    try:
        # From the top: run in a subfolder, git archive keeps only the part of `tree` below
        # that subfolder's path, which a tree of the project's own folder does not have.
        archive = _git(top, "archive", "--format=tar", tree)
    except BaseError:
        raise BaseError(
            f"--base {ref}: the project folder {prefix or '.'} is not in commit {commit_id[:7]}"
        ) from None
    with tempfile.TemporaryDirectory(prefix="voxform-base-") as folder:
        copy = Path(folder) / "project"
        copy.mkdir()
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(copy, filter="data")
            else:  # Python before 3.11.4: regular files and folders only, below the copy
                tar.extractall(copy, members=_plain_members(tar))
        lock_at_ref = copy / LOCKFILE
        if lockfile is not None and lockfile.absolute() != (root / LOCKFILE).absolute():
            lock_at_ref = Path(folder) / "base.lock"  # none at REF: every item is new
            in_repository = _inside(top, lockfile)
            if in_repository is not None:
                with contextlib.suppress(BaseError):
                    lock_at_ref.write_bytes(_git(root, "show", f"{commit_id}:{in_repository}"))
        try:
            loaded = load_project(copy, lock_at_ref)
        except VoxformError as exc:
            raise BaseError(
                f"--base {ref}: the project at {commit_id[:7]}: {_first(exc)}"
            ) from None
        yield Base(ref, commit_id, loaded)


def _plain_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's files and folders whose names stay below where it is written."""
    return [
        member
        for member in tar.getmembers()
        if (member.isfile() or member.isdir())
        and not member.name.startswith("/")
        and ".." not in member.name.split("/")
    ]


def _first(error: VoxformError) -> str:
    """An error's first problem, with its place in the copy made relative."""
    if isinstance(error, ManifestError) and error.problems:
        problem = error.problems[0]
        return f"{problem.location}: {problem.message}"
    return str(error)


def _inside(top: Path, path: Path) -> str | None:
    """`path` relative to the work tree's top (POSIX), when it is inside it."""
    relative = os.path.relpath(os.path.realpath(path), os.path.realpath(top))
    return None if relative.startswith("..") else Path(relative).as_posix()


def _git(cwd: Path, *args: str) -> bytes:
    """git's standard output; BaseError with its message when it fails."""
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        timeout=GIT_TIMEOUT,
        check=False,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
    )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BaseError(message[-1] if message else f"git {args[0]} failed")
    return done.stdout
