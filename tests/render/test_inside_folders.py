"""InsideFolders: a source's files judged as `inside` judges them, each folder resolved once."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxform.errors import PathEscapeError
from voxform.paths import InsideFolders, inside


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    (root / "texts/sub").mkdir(parents=True)
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.txt").write_text("no")
    (outside / "deep/more.txt").write_text("no")
    (root / "top.txt").write_text("yes")
    (root / "texts/a.txt").write_text("yes")
    (root / "texts/sub/b.txt").write_text("yes")
    (root / "texts/link.txt").symlink_to(outside / "secret.txt")
    (root / "texts/near.txt").symlink_to(root / "texts/a.txt")
    (root / "texts/away").symlink_to(outside / "deep")
    (root / "texts/here").symlink_to(root / "texts/sub")
    (root / "texts/dangling.txt").symlink_to(tmp_path / "nothing")
    return root


NAMES = [
    "top.txt",
    "texts/a.txt",
    "texts/sub/b.txt",
    "texts/link.txt",
    "texts/near.txt",
    "texts/away/more.txt",
    "texts/here/b.txt",
    "texts/dangling.txt",
    "texts/missing.txt",
    "texts/../../outside/secret.txt",
    "../outside/secret.txt",
    "/etc/passwd",
]


def _verdict(check: object, name: str) -> str | None:
    try:
        check(name)  # type: ignore[operator]
    except PathEscapeError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("name", NAMES)
def test_each_file_judged_as_inside_judges_it(tree: Path, name: str) -> None:
    folders = InsideFolders(tree, tree.resolve())
    for _ in range(2):  # the second time from what it learnt of the folder
        assert _verdict(folders.check, name) == _verdict(lambda n: inside(tree, n), name)


def test_a_folder_leading_out_is_refused_for_every_file_in_it(tree: Path) -> None:
    folders = InsideFolders(tree, tree.resolve())
    folders.check("texts/a.txt")
    with pytest.raises(PathEscapeError, match="escapes the project root"):
        folders.check("texts/away/more.txt")
    with pytest.raises(PathEscapeError, match="escapes the project root"):
        folders.check("texts/link.txt")
    folders.check("texts/here/b.txt")
