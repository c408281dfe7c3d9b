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
