"""The emulator's object store knows the ETag and CRC-64 of the audio its jobs write without
reading the files back (a listing of thousands of objects read each one), and is never
fooled by a file changed after it was told."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from voxform.emulator.oss.store import ObjectStore
from voxform.oss.crc64 import crc64


def etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest().upper()}"'


def test_a_written_object_is_listed_with_the_digests_of_its_bytes(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    data = b"\xff\xfb" + bytes(5000)
    path = tmp_path / "audio-bucket" / "book" / "p1.mp3"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)

    store.written(path.resolve(), data)
    # Bytes changed in place, size and time kept: what head tells comes from `written`.
    status = path.stat()
    path.write_bytes(b"\x00" * len(data))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    info = store.head("audio-bucket", "book/p1.mp3")

    assert (info.etag, info.crc64, info.size) == (etag(data), crc64(data), len(data))
    assert store.keys("audio-bucket", "") == ["book/p1.mp3"]


def test_a_file_replaced_after_it_was_told_is_read_again(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path)
    path = tmp_path / "audio-bucket" / "p1.mp3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a" * 100)
    store.written(path.resolve(), b"a" * 100)

    other = path.with_name("new")
    other.write_bytes(b"b" * 100)  # the same size, another file
    os.replace(other, path)
    assert store.head("audio-bucket", "p1.mp3").etag == etag(b"b" * 100)

    store.written(path.resolve(), b"c" * 50)  # not what the file holds: not remembered
    assert store.head("audio-bucket", "p1.mp3").etag == etag(b"b" * 100)


def test_a_listing_gives_what_head_gives_for_each_object(tmp_path: Path) -> None:
    """A page's digests come from what was kept while the stat holds, read again when the
    file was replaced; a key deleted since it was found is left out."""
    store = ObjectStore(tmp_path)
    folder = tmp_path / "audio-bucket" / "book"
    folder.mkdir(parents=True)
    for n in range(4):
        (folder / f"p{n}.mp3").write_bytes(bytes([n]) * 100)
    store.written((folder / "p0.mp3").resolve(), bytes([0]) * 100)
    store.written((folder / "p1.mp3").resolve(), bytes([1]) * 100)
    other = folder / "new"
    other.write_bytes(b"b" * 100)
    os.replace(other, folder / "p1.mp3")  # replaced after it was told: read again
    keys = store.keys("audio-bucket", "")
    (folder / "p3.mp3").unlink()

    listed = store.listed("audio-bucket", keys)

    assert [info.key for info in listed] == ["book/p0.mp3", "book/p1.mp3", "book/p2.mp3"]
    assert listed == [store.head("audio-bucket", info.key) for info in listed]
    assert listed[1].etag == etag(b"b" * 100)
    assert listed[2].crc64 == crc64(bytes([2]) * 100)
