"""Outputs of both kinds in the lockfile: a project file (sha256, size) and an OSS object
(`oss://BUCKET/KEY`: etag, size, crc64 once read), and the audio digest. Read back as
written; anything voxform would not write is one error naming the item, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voxform.state.lockfile import (
    LockEntry,
    LockfileError,
    LockState,
    read_lockfile,
    write_lockfile,
)
from voxform.state.outputs import FileDigest, ObjectDigest, files_of, objects_of

FINGERPRINT = "sha256:" + "a" * 64
SHA = "b" * 64
ETAG = '"5B3C1A2E053D763E1B002CC607C5A0FE"'
OBJECT = "oss://my-audio/course/intro/welcome.mp3"


def write(tmp_path: Path, outputs: object, **fields: object) -> Path:
    block = {"state": "finished", "fingerprint": FINGERPRINT, "characters": 22, "inputs": {}}
    block.update(fields)
    block["outputs"] = outputs
    path = tmp_path / "voxform.lock"
    document = {"items": {"welcome": block}, "lockfile_version": 1}
    path.write_text(json.dumps(document))
    return path


def test_files_and_objects_are_read_back_as_their_own_types(tmp_path: Path) -> None:
    entry = LockEntry(
        state="finished",
        fingerprint=FINGERPRINT,
        characters=22,
        outputs={
            "subtitles/oss/course/intro/welcome.vtt": FileDigest(SHA, 120),
            OBJECT: ObjectDigest(ETAG, 51_840, 2**64 - 1),
            "oss://my-audio/course/intro/tip.mp3": ObjectDigest(ETAG, 0),
        },
        audio_digest="sha256:" + "c" * 64,
    )
    path = tmp_path / "voxform.lock"
    write_lockfile(path, LockState({"welcome": entry}))
    block = json.loads(path.read_text())["items"]["welcome"]
    assert block["outputs"][OBJECT] == {"etag": ETAG, "size": 51_840, "crc64": str(2**64 - 1)}
    assert block["outputs"]["oss://my-audio/course/intro/tip.mp3"] == {"etag": ETAG, "size": 0}
    back = read_lockfile(path).items["welcome"]
    assert back == entry
    assert list(files_of(back.outputs)) == ["subtitles/oss/course/intro/welcome.vtt"]
    assert set(objects_of(back.outputs)) == {OBJECT, "oss://my-audio/course/intro/tip.mp3"}


def test_a_lockfile_from_before_objects_reads_unchanged(tmp_path: Path) -> None:
    path = write(tmp_path, {"build/audio/welcome.mp3": {"sha256": SHA, "size": 9}})
    before = path.read_bytes()
    state = read_lockfile(path)
    assert state.items["welcome"].outputs == {"build/audio/welcome.mp3": FileDigest(SHA, 9)}
    assert state.items["welcome"].audio_digest is None
    write_lockfile(path, state)
    assert json.loads(path.read_bytes()) == json.loads(before)


HOSTILE = {
    "etag-missing": {OBJECT: {"size": 1}},
    "etag-too-long": {OBJECT: {"etag": "a" * 129, "size": 1}},
    "etag-with-space": {OBJECT: {"etag": '"a b"', "size": 1}},
    "etag-with-newline": {OBJECT: {"etag": '"ab"\n', "size": 1}},
    "etag-not-text": {OBJECT: {"etag": 5, "size": 1}},
    "size-negative": {OBJECT: {"etag": ETAG, "size": -1}},
    "size-huge": {OBJECT: {"etag": ETAG, "size": 2**60}},
    "crc-number": {OBJECT: {"etag": ETAG, "size": 1, "crc64": 5}},
    "crc-too-big": {OBJECT: {"etag": ETAG, "size": 1, "crc64": str(2**64)}},
    "crc-not-digits": {OBJECT: {"etag": ETAG, "size": 1, "crc64": "-5"}},
    "crc-21-digits": {OBJECT: {"etag": ETAG, "size": 1, "crc64": "1" * 21}},
    "unknown-field": {OBJECT: {"etag": ETAG, "size": 1, "md5": "x"}},
    "object-as-file": {OBJECT: {"sha256": SHA, "size": 1}},
    "file-as-object": {"build/audio/a.mp3": {"etag": ETAG, "size": 1}},
    "bad-bucket": {"oss://My_Bucket/a.mp3": {"etag": ETAG, "size": 1}},
    "no-key": {"oss://my-audio/": {"etag": ETAG, "size": 1}},
    "no-slash": {"oss://my-audio": {"etag": ETAG, "size": 1}},
    "key-too-long": {"oss://my-audio/" + "k" * 1024: {"etag": ETAG, "size": 1}},
    "not-an-object": {OBJECT: [ETAG, 1]},
}


@pytest.mark.parametrize("outputs", HOSTILE.values(), ids=HOSTILE.keys())
def test_an_output_voxform_would_not_write_is_one_error_naming_the_item(
    tmp_path: Path, outputs: object
) -> None:
    path = write(tmp_path, outputs)
    with pytest.raises(LockfileError) as caught:
        read_lockfile(path)
    message = str(caught.value)
    assert "item 'welcome': output " in message and "\n" not in message
    assert "fix it or restore it from git" in message


@pytest.mark.parametrize("value", ["sha256:abc", 5, "c" * 71])
def test_an_audio_digest_voxform_would_not_write_is_refused(tmp_path: Path, value: object) -> None:
    path = write(tmp_path, {}, audio_digest=value)
    with pytest.raises(LockfileError, match="item 'welcome': 'audio_digest' must be"):
        read_lockfile(path)
