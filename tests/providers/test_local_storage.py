"""A local target's folder as a Storage: files by project path, copied and deleted only
while they are the bytes recorded, never through a symlink."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxform.errors import ItemError
from voxform.providers.local_storage import LocalStorage
from voxform.providers.oss_errors import ObjectConflict, ObjectMissing
from voxform.state.outputs import FileDigest, digest_of


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    folder = tmp_path / "build" / "audio" / "ch1"
    folder.mkdir(parents=True)
    for name in ("a", "b", "c"):
        (folder / f"{name}.mp3").write_bytes(f"audio {name}".encode())
    (tmp_path / "notes.txt").write_text("not listed")
    return LocalStorage(tmp_path, "build/audio")


def test_head_and_list_give_each_file_its_digest(storage: LocalStorage) -> None:
    assert storage.head("build/audio/ch1/a.mp3") == digest_of(b"audio a")
    assert storage.head("build/audio/ch1/none.mp3") is None
    page = storage.list("build/audio/ch1/")
    assert [name for name, _ in page.outputs] == [
        f"build/audio/ch1/{n}.mp3" for n in ("a", "b", "c")
    ]
    assert page.next_page is None
    after = storage.list("build/audio/ch1/", after="build/audio/ch1/a.mp3")
    assert [name for name, _ in after.outputs] == ["build/audio/ch1/b.mp3", "build/audio/ch1/c.mp3"]
    with pytest.raises(ItemError):
        storage.head("../outside.mp3")


def test_copy_only_while_the_source_is_the_bytes_recorded(
    storage: LocalStorage, tmp_path: Path
) -> None:
    recorded = digest_of(b"audio a")
    copied = storage.copy_if_match("build/audio/ch1/a.mp3", recorded, "build/audio/ch2/a.mp3")
    assert copied == recorded
    assert (tmp_path / "build/audio/ch2/a.mp3").read_bytes() == b"audio a"
    (tmp_path / "build/audio/ch1/a.mp3").write_bytes(b"changed")
    with pytest.raises(ObjectConflict):
        storage.copy_if_match("build/audio/ch1/a.mp3", recorded, "build/audio/ch2/x.mp3")
    with pytest.raises(ObjectMissing):
        storage.copy_if_match("build/audio/ch1/gone.mp3", recorded, "build/audio/ch2/y.mp3")


def test_delete_only_what_is_still_recorded_and_reached_through_no_link(
    storage: LocalStorage, tmp_path: Path
) -> None:
    folder = tmp_path / "build" / "audio" / "ch1"
    (folder / "b.mp3").write_bytes(b"someone else's")
    os.symlink(folder / "c.mp3", folder / "link.mp3")
    done = storage.delete_many_if_match(
        {
            "build/audio/ch1/a.mp3": digest_of(b"audio a"),
            "build/audio/ch1/b.mp3": digest_of(b"audio b"),
            "build/audio/ch1/link.mp3": digest_of(b"audio c"),
            "build/audio/ch1/gone.mp3": FileDigest("0" * 64, 1),
        }
    )
    assert done.deleted == ("build/audio/ch1/a.mp3",)
    assert {name for name, _ in done.kept} == {"build/audio/ch1/b.mp3", "build/audio/ch1/link.mp3"}
    assert (folder / "b.mp3").read_bytes() == b"someone else's"
    assert (folder / "c.mp3").exists() and (folder / "link.mp3").is_symlink()
