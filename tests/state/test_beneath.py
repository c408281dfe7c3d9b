"""A folder below a trusted one in one openat2: a descriptor only where no symlink, file or
`..` is on the way; None otherwise, and files.py then walks the path itself."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxform.beneath import MISSING, find_beneath, open_beneath
from voxform.files import check_writable_files, write_atomic

LINUX = sys.platform == "linux" and os.uname().machine in ("x86_64", "aarch64")


@pytest.fixture
def root(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "file").write_text("x")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "a" / "link")
    os.symlink("b", tmp_path / "a" / "relative")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    yield fd
    os.close(fd)


@pytest.mark.skipif(not LINUX, reason="openat2 is Linux's")
def test_a_real_folder_below_is_opened_in_one_call(root: int, tmp_path: Path) -> None:
    fd = open_beneath(root, "a/b/c")
    assert fd is not None
    try:
        assert os.fstat(fd).st_ino == (tmp_path / "a" / "b" / "c").stat().st_ino
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    "relative",
    [
        "a/link",  # a symlink as the last part
        "a/link/x",  # ... or on the way
        "a/relative/c",  # a relative symlink that stays inside is still one
        "a/file",  # not a folder
        "a/missing",
        "../x",
        "a/../../x",
        "/etc",
        "",
    ],
)
def test_anything_but_a_real_folder_below_is_none(root: int, relative: str) -> None:
    assert open_beneath(root, relative) is None


def test_writes_still_refuse_a_symlinked_folder(tmp_path: Path) -> None:
    """files.py's walk, not the fast path, says why."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "project" / "subtitles").mkdir(parents=True)
    os.symlink(tmp_path / "outside", tmp_path / "project" / "subtitles" / "t")
    project = tmp_path / "project"
    with pytest.raises(PermissionError, match="subtitles/t is a symlink"):
        write_atomic(project / "subtitles" / "t" / "x.vtt", b"x", root=project)
    assert not list((tmp_path / "outside").iterdir())
    write_atomic(project / "subtitles" / "u" / "v" / "x.vtt", b"x", root=project)  # made
    write_atomic(project / "subtitles" / "u" / "v" / "x.vtt", b"y", root=project)  # found
    assert (project / "subtitles" / "u" / "v" / "x.vtt").read_bytes() == b"y"


@pytest.mark.skipif(not LINUX, reason="openat2 is Linux's")
@pytest.mark.parametrize("relative", ["a/missing", "a/b/missing/deeper", "nothing/at/all"])
def test_a_missing_folder_is_told_apart(root: int, relative: str) -> None:
    assert find_beneath(root, relative) == MISSING


@pytest.mark.parametrize(
    "relative", ["a/link/missing", "a/relative/missing", "a/file/missing", "../x", "/etc", ""]
)
def test_a_symlink_or_file_before_a_missing_part_is_not_missing(root: int, relative: str) -> None:
    # ELOOP or ENOTDIR, not ENOENT: files.py's walk then says what is in the way
    assert find_beneath(root, relative) is None


def test_a_check_below_a_symlink_before_a_missing_folder_still_refuses(tmp_path: Path) -> None:
    """A check passes over a folder that is not there (nothing in it to refuse), but not
    over a symlink on the way to it."""
    project = tmp_path / "project"
    (project / "subtitles").mkdir(parents=True)
    check_writable_files(project / "subtitles" / "t" / "u", ["x.vtt"], root=project)  # missing
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", project / "subtitles" / "t")
    with pytest.raises(PermissionError, match="subtitles/t is a symlink"):
        check_writable_files(project / "subtitles" / "t" / "u", ["x.vtt"], root=project)
