"""A page of the emulator's bucket listing is read from the folders it lists, in OSS's order
(UTF-8 bytes), not by sorting the whole bucket for each page."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxform.emulator.oss.store import ObjectStore

BUCKET = "audio-bucket"
# Names whose order differs between folder-first and byte order: "a-b" < "a/x" < "a0".
KEYS = [
    "a-b.mp3",
    "a/x.mp3",
    "a/y/z.mp3",
    "a0.mp3",
    "a.mp3",
    "b/\u00e9t\u00e9.mp3",
    "b/ete.mp3",
    "b/z/1.mp3",
    "b/z/10.mp3",
    "b/z/2.mp3",
    "gen/b00000/p1.mp3",
    "gen/b00001/p1.mp3",
    "gen/b00001/p2.mp3",
]


def every_key(root: Path, prefix: str) -> list[str]:
    """The bucket's objects (regular files, not voxform's temporary ones) by brute force."""
    bucket = root / BUCKET
    keys = [
        p.relative_to(bucket).as_posix()
        for p in bucket.rglob("*")
        if p.is_file() and not p.is_symlink() and not p.name.endswith(".voxform-tmp")
    ]
    return sorted((k for k in keys if k.startswith(prefix)), key=str.encode)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ObjectStore:
    root = tmp_path_factory.mktemp("storage")
    for key in KEYS:
        path = root / BUCKET / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"audio")
    (root / BUCKET / "a" / ".x.mp3.1-abcdef01-2.voxform-tmp").write_bytes(b"half")
    (root / BUCKET / "link.mp3").symlink_to(root / BUCKET / "a0.mp3")
    return ObjectStore(root)


@pytest.mark.parametrize("prefix", ["", "a", "a/", "b/z/", "gen/b0000", "zzz"])
@pytest.mark.parametrize("after", ["", "a", "a-b.mp3", "a/", "a/y/z.mp3", "b/z/1.mp3", "gen/"])
@pytest.mark.parametrize("limit", [1, 2, 5, 1000])
def test_a_page_is_the_first_keys_after_the_marker_in_byte_order(
    store: ObjectStore, prefix: str, after: str, limit: int
) -> None:
    every = every_key(store.storage, prefix)
    expected = [k for k in every if k.encode() > after.encode()][:limit]

    assert store.keys_after(BUCKET, prefix, after, limit) == expected


def test_temporary_files_and_links_are_not_objects(store: ObjectStore) -> None:
    listed = store.keys_after(BUCKET, "", "", 1000)

    assert sorted(listed, key=str.encode) == sorted(KEYS, key=str.encode) == listed


def test_a_listing_of_a_bucket_of_hundreds_pages_through_it(tmp_path: Path) -> None:
    for folder in range(12):
        for item in range(50):
            path = tmp_path / BUCKET / f"gen/b{folder:05d}/p{item:03d}.mp3"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
    store = ObjectStore(tmp_path)
    pages, after = [], ""
    while page := store.keys_after(BUCKET, "gen/", after, 250):
        pages.append(page)
        after = page[-1]

    assert [len(p) for p in pages] == [250, 250, 100]
    assert [k for p in pages for k in p] == every_key(tmp_path, "gen/")


def test_a_page_tells_what_head_tells_of_each_key_and_leaves_out_what_went_meanwhile(
    tmp_path: Path,
) -> None:
    store = ObjectStore(tmp_path)
    for n, key in enumerate(["a/1.mp3", "a/2.mp3", "a/3.mp3", "b.mp3"]):
        path = tmp_path / BUCKET / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"audio %d" % n)
    keys = store.keys_after(BUCKET, "", "", 1000)
    heads = {key: store.head(BUCKET, key) for key in keys}
    # between the walk and the stat: one deleted, one turned into a link out of the bucket
    (tmp_path / BUCKET / "a/2.mp3").unlink()
    outside = tmp_path / "outside.mp3"
    outside.write_bytes(b"not an object")
    (tmp_path / BUCKET / "b.mp3").unlink()
    (tmp_path / BUCKET / "b.mp3").symlink_to(outside)

    listed = store.listed(BUCKET, keys)

    assert [info.key for info in listed] == ["a/1.mp3", "a/3.mp3"]
    assert listed == [heads["a/1.mp3"], heads["a/3.mp3"]]
