"""state/below.py: a file looked at from its folder, opened once, is what `os.lstat` of its
whole path says, for every kind of thing there is or is not at the path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxform.state.below import Below


def looked(look: Below | None, root: Path, name: str) -> tuple[object, ...] | str:
    """What a look at `name` says: (kind, size, inode, mtime) or the error's errno."""
    try:
        st = look(name) if look is not None else os.lstat(f"{root}/{name}")
    except OSError as error:
        return f"errno {error.errno}"
    return (st.st_mode, st.st_size, st.st_ino, st.st_mtime_ns)


def test_every_kind_of_path_is_looked_at_as_lstat_looks_at_it(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "build/a").mkdir(parents=True)
    (root / "build/a/x.srt").write_text("one")
    (root / "top.vtt").write_text("two")
    (root / "elsewhere").mkdir()
    (root / "elsewhere/y.srt").write_text("three")
    (root / "build/linked").symlink_to(root / "elsewhere")  # a folder through a link
    (root / "build/a/link.srt").symlink_to(root / "top.vtt")  # the last part: not followed
    (root / "build/file").write_text("not a folder")
    names = [
        "build/a/x.srt",
        "top.vtt",
        "build/linked/y.srt",
        "build/a/link.srt",
        "build/a/missing.srt",
        "build/missing/x.srt",
        "build/file/x.srt",
        "build/a",
    ]
    look = Below(str(root))
    try:
        for name in names:
            assert looked(look, root, name) == looked(None, root, name), name
        assert "build/a" in look.folders and "build/missing" in look.folders
    finally:
        look.close()
    assert look.folders == {}


def test_a_file_changed_after_its_folder_was_opened_is_seen_changed(tmp_path: Path) -> None:
    (tmp_path / "f").mkdir()
    (tmp_path / "f/x.srt").write_text("one")
    look = Below(str(tmp_path))
    before = look("f/x.srt")
    (tmp_path / "f/x.srt").write_text("longer now")
    assert look("f/x.srt").st_size != before.st_size
    (tmp_path / "f/x.srt").unlink()
    with pytest.raises(FileNotFoundError):
        look("f/x.srt")
    look.close()


def test_no_more_folders_than_its_most_are_held_open(tmp_path: Path) -> None:
    for n in range(Below.MOST + 10):
        (tmp_path / f"d{n}").mkdir()
        (tmp_path / f"d{n}/x.srt").write_text(str(n))
    look = Below(str(tmp_path))
    for n in range(Below.MOST + 10):
        assert look(f"d{n}/x.srt").st_size == len(str(n))
        assert len(look.folders) <= Below.MOST
    look.close()
