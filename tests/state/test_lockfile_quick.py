"""The quick reading of the lockfile (state/lockquick.py) gives what the full one gives, or
gives up: for every block voxform writes it is taken quickly, and for every block changed
by hand it is either the same state or left to the full reading, which says what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

from voxform.state.lockfile import LockEntry, LockfileError, LockState, read_lockfile
from voxform.state.lockquick import quick_state
from voxform.state.outputs import FileDigest, ObjectDigest

FINGERPRINT = "sha256:" + "ab" * 32
SHA = "cd" * 32


def usual() -> LockState:
    """Blocks of every kind voxform writes."""
    finished = LockEntry(
        state="finished",
        fingerprint=FINGERPRINT,
        characters=377,
        inputs={"text": FINGERPRINT, "format": "mp3", "volume": "50"},
        chunk=FINGERPRINT,
        job_id="b428e0239e944cd38391eb86c83b990b",
        media_id="7397726a6e6f4f8e8af54675753dc197",
        url="http://127.0.0.1:1/b.mp3",
        duration=25.1,
        subtitles={"srt": "subtitles/b/p1.srt", "vtt": "subtitles/b/p1.vtt"},
        outputs={
            "oss://gen-bucket/gen/b/p1.mp3": ObjectDigest('"BEDCC9D28E526DFA"', 201600),
            "oss://gen-bucket/gen/b/p2.mp3": ObjectDigest('"AB"', 5, 18446744073709551615),
            "subtitles/b/p1.srt": FileDigest(SHA, 509),
        },
        audio_digest=FINGERPRINT,
        copied_from="b/p0",
    )
    pending = LockEntry(
        state="pending", fingerprint=FINGERPRINT, characters=0, token="0123456789abcdef0123"
    )
    failed = LockEntry(
        state="failed",
        fingerprint=FINGERPRINT,
        characters=3,
        error_code="Throttling",
        error_message="\u8bf7\u6c42\u8fc7\u4e8e\u9891\u7e41 (too many calls)",
        duration=7,
    )
    return LockState({"b/p1": finished, "b/p2": pending, "b/p3": failed})


def spelt(state: LockState) -> str:
    """Every entry's every field, in order, with its type (1 is not 1.0 here)."""
    return repr([(key, vars(entry)) for key, entry in state.items.items()])


def outcome(path: Path, *, quick: bool) -> str:
    """The state as read, spelt, or the error's message."""
    try:
        return spelt(read_lockfile(path, quick=quick))
    except LockfileError as error:
        return f"error: {error}"


def test_the_blocks_voxform_writes_are_taken_quickly(tmp_path: Path) -> None:
    state = usual()
    text = state.to_bytes().decode()

    found = quick_state(text)

    assert found == state
    assert found is not None and found.to_bytes() == text.encode()
    path = tmp_path / "voxform.lock"
    path.write_text(text)
    assert outcome(path, quick=True) == outcome(path, quick=False) == spelt(found)


ODD_VALUES: list[object] = [
    None,
    "",
    "\u00e9t\u00e9",
    "\ud800",
    0,
    -1,
    7,
    2**53,
    10**25,
    1.5,
    float("nan"),
    float("inf"),
    True,
    [],
    {},
    {"a": 1},
    {"a": "\u00e9"},
    FINGERPRINT,
    "0123456789abcdef0123",
    "b/p9",
    "../x",
    "finished",
]
FIELDS = [
    "state",
    "fingerprint",
    "characters",
    "inputs",
    "chunk",
    "job_id",
    "url",
    "duration",
    "subtitles",
    "error_message",
    "token",
    "audio_digest",
    "copied_from",
    "outputs",
    "unknown_field",
]
OUTPUTS: list[tuple[str, object]] = [
    ("subtitles/b/p1.srt", {"sha256": SHA, "size": 1, "extra": 1}),
    ("subtitles/b/p1.srt", {"sha256": SHA.upper(), "size": 1}),
    ("subtitles/b/p1.srt", {"sha256": SHA, "size": -1}),
    ("subtitles/\u00e9.srt", {"sha256": SHA, "size": 1}),
    ("subtitles/\ud800.srt", {"sha256": SHA, "size": 1}),
    ("subtitles/b/p1.srt", [SHA, 1]),
    ("oss://gen-bucket/k", {"etag": '"A"', "size": 1, "crc64": "18446744073709551616"}),
    ("oss://gen-bucket/k", {"etag": '"A"', "size": 1, "crc64": "012"}),
    ("oss://gen-bucket/k", {"etag": '"A"', "size": 1, "crc64": ""}),
    ("oss://gen-bucket/k", {"etag": '"A"', "size": 1, "crc64": "1e3"}),
    ("oss://gen-bucket/k", {"etag": '"A"', "size": 1, "crc64": 12}),
    ("oss://gen-bucket/k", {"etag": '"A"', "size": 1, "crc64": None}),
    ("oss://gen-bucket/k", {"etag": "a b", "size": 1}),
    ("oss://gen-bucket/k", {"etag": '"A"'}),
    ("oss://gen-bucket/k", {"etag": '"A"', "size": 1, "md5": "x"}),
    ("oss://Gen_Bucket/k", {"etag": '"A"', "size": 1}),
    ("oss://gen-bucket/", {"etag": '"A"', "size": 1}),
    ("oss://gen-bucket//k", {"etag": '"A"', "size": 1}),
    ("oss://gen-bucket/" + "k" * 1024, {"etag": '"A"', "size": 1}),
    ("oss://gen-bucket/\u00e9", {"etag": '"A"', "size": 1}),
    ("oss://gen-bucket", {"etag": '"A"', "size": 1}),
]


def edited(field: str, value: object) -> str:
    document = json.loads(usual().to_bytes())
    document["items"]["b/p1"][field] = value
    return json.dumps(document, indent=2)  # NaN and Infinity spelt as Python does


def cases() -> list[str]:
    texts = [edited(field, value) for field in FIELDS for value in ODD_VALUES]
    texts += [edited("outputs", {name: value}) for name, value in OUTPUTS]
    plain = usual().to_bytes().decode()
    texts += [
        plain.replace('"state": "pending"', '"state": "pending",\n      "state": "failed"'),
        plain.replace('"lockfile_version": 1', '"lockfile_version": 2'),
        plain.replace('"lockfile_version": 1', '"lockfile_version": 1.0'),
        plain.replace('"lockfile_version": 1', '"lockfile_version": 1, "serial": 3'),
        plain.replace('"b/p2"', '"B/p2"'),
        plain.replace('"characters": 0', '"characters": ' + "9" * 5000),
        plain.replace('"duration": 7', '"duration": ' + "9" * 25),
        plain.replace('"duration": 7', '"duration": 1e999'),
        plain.replace('"items": {', '"items": [').replace(
            '\n  },\n  "lockfile', '\n  ],\n  "lockfile'
        ),
        "[" * 100_000,
        "{}",
        '{"items": {}, "lockfile_version": 1}',
    ]
    return texts


def test_a_block_changed_by_hand_reads_the_same_either_way(tmp_path: Path) -> None:
    path = tmp_path / "voxform.lock"
    taken = 0
    for number, text in enumerate(cases()):
        path.write_text(text, encoding="utf-8")

        full = outcome(path, quick=False)
        found = quick_state(text)

        assert found is None or spelt(found) == full, number
        assert outcome(path, quick=True) == full, number
        taken += found is not None
    assert taken > 30  # edits that keep a block as voxform writes it are taken quickly too
