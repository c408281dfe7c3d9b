"""The lockfile's index (state/lockindex.py): what a plan reads instead of the lockfile's
JSON, written for the bytes apply wrote and believed only for those bytes. Damaged, stale,
foreign or of another version, it is ignored and the lockfile is read the full way; read,
it gives every entry exactly as the lockfile does, fields it does not hold included."""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import fields, replace
from pathlib import Path

import pytest

from state.test_lockfile_quick import FINGERPRINT, SHA
from state.test_lockfile_quick import usual as quick_usual
from voxform import __version__
from voxform.state.journal import index_path
from voxform.state.lockfile import (
    LockEntry,
    LockfileError,
    LockState,
    read_lockfile,
    write_lockfile,
)
from voxform.state.lockindex import INDEX_VERSION, IndexedEntry, save_index
from voxform.state.outputs import FileDigest, ObjectDigest

OTHER = "sha256:" + "ef" * 32


def usual() -> LockState:
    """Entries of every kind apply writes (the quick reading's), a message in Chinese among
    them, and one after it with a url in UTF-8, no chunk and audio of its own."""
    state = quick_usual()
    items = state.items
    items["b/p3"] = replace(items["b/p3"], fingerprint=OTHER, outputs={})
    later = replace(items["b/p1"], url="http://127.0.0.1:1/\u00e9t\u00e9.mp3", chunk=None)
    items["b/p4"] = replace(later, audio_digest=OTHER)
    # Outputs as apply makes them, not in the order of their names (the lockfile's)
    items["b/p5"] = replace(items["b/p1"], outputs=dict(reversed(items["b/p1"].outputs.items())))
    return state


def applied(root: Path, state: LockState | None = None) -> tuple[Path, Path]:
    """A lockfile written as apply writes it, and its index beside it, as apply leaves
    them: the lockfile's path and the index's."""
    lock = root / "voxform.lock"
    (root / ".voxform").mkdir(parents=True, exist_ok=True)
    index = index_path(root / ".voxform" / "voxform.lock.journal")
    write_lockfile(lock, state or usual())
    assert save_index(lock, index, root)
    return lock, index


def spelt(state: LockState) -> list[tuple[str, list[object]]]:
    """Every entry's every field (read through the entry, as the plan reads them)."""
    names = [f.name for f in fields(LockEntry)]

    def value(found: object) -> object:  # a dict's order too: the plan tells files in it
        return list(found.items()) if isinstance(found, dict) else found

    return [(key, [value(getattr(e, n)) for n in names]) for key, e in state.items.items()]


def test_an_index_gives_every_entry_as_the_lockfile_does(tmp_path: Path) -> None:
    lock, index = applied(tmp_path)
    assert index.name == "voxform.lock.index"
    indexed = read_lockfile(lock, index=index)
    assert {type(e) for e in indexed.items.values()} == {IndexedEntry}
    full = read_lockfile(lock)
    assert spelt(indexed) == spelt(full)
    assert indexed.items == full.items and full.items == indexed.items
    assert indexed.to_bytes() == lock.read_bytes()


def test_fields_it_does_not_hold_are_read_from_the_entry_asked_for_alone(tmp_path: Path) -> None:
    lock, index = applied(tmp_path)
    indexed = read_lockfile(lock, index=index)
    first, second = indexed.items["b/p1"], indexed.items["b/p3"]
    assert first.fingerprint == FINGERPRINT and "inputs" not in vars(first)
    assert first.inputs == {"text": FINGERPRINT, "format": "mp3", "volume": "50"}
    assert first.job_id == "b428e0239e944cd38391eb86c83b990b"
    assert "inputs" not in vars(second)  # another entry is not read for it
    assert second.error_message == "\u8bf7\u6c42\u8fc7\u4e8e\u9891\u7e41 (too many calls)"
    assert indexed.items["b/p4"].copied_from == "b/p0"  # after a block with UTF-8 in it


def test_a_truncated_index_is_ignored(tmp_path: Path) -> None:
    lock, index = applied(tmp_path)
    data = index.read_bytes()
    for size in (0, 20, len(data) // 2, len(data) - 1):
        index.write_bytes(data[:size])
        read = read_lockfile(lock, index=index)
        assert {type(e) for e in read.items.values()} == {LockEntry}
        assert spelt(read) == spelt(read_lockfile(lock))
        assert read.items == usual().items


def test_an_edited_index_is_ignored(tmp_path: Path) -> None:
    """A fingerprint changed in the index's strings, the numbers and lengths as they were:
    only the body's sha256 tells."""
    lock, index = applied(tmp_path)
    data = index.read_bytes()
    assert data.count(FINGERPRINT.encode()) >= 2
    index.write_bytes(data.replace(FINGERPRINT.encode(), OTHER.encode(), 1))
    read = read_lockfile(lock, index=index)
    assert read.items["b/p1"].fingerprint == FINGERPRINT
    assert {type(e) for e in read.items.values()} == {LockEntry}


def test_an_index_of_other_bytes_is_ignored_stale_or_foreign(tmp_path: Path) -> None:
    """The lockfile edited since (a count, same length), or an index brought from another
    project: made for other bytes, it is not read."""
    lock, index = applied(tmp_path / "here")
    text = lock.read_text()
    assert '"characters": 377,' in text
    lock.write_text(text.replace('"characters": 377,', '"characters": 378,'))
    read = read_lockfile(lock, index=index)
    assert read.items["b/p1"].characters == 378
    assert {type(e) for e in read.items.values()} == {LockEntry}

    there, _ = applied(tmp_path / "there", LockState({"b/p1": usual().items["b/p1"]}))
    foreign = read_lockfile(there, index=index)
    assert list(foreign.items) == ["b/p1"]
    assert {type(e) for e in foreign.items.values()} == {LockEntry}


def test_an_index_of_another_version_or_kind_is_ignored(tmp_path: Path) -> None:
    lock, index = applied(tmp_path)
    data = index.read_bytes()
    versions = (f'"{INDEX_VERSION}:{__version__}:'.encode(), f'"{INDEX_VERSION}:0.0.1:'.encode())
    for old, new in (
        (f'"{INDEX_VERSION}:'.encode(), b'"9:'),  # another index version
        versions,  # another voxform's
        (b"lock-index", b"lock-other"),  # another kind of cache
    ):
        assert old in data
        index.write_bytes(data.replace(old, new, 1))
        read = read_lockfile(lock, index=index)
        assert {type(e) for e in read.items.values()} == {LockEntry}
    index.write_bytes(data)
    assert {type(e) for e in read_lockfile(lock, index=index).items.values()} == {IndexedEntry}


def test_only_the_bytes_this_process_wrote_are_indexed(tmp_path: Path) -> None:
    """No index without a write to go by, nor for a field the quick reading would not take
    (a line break in a url), nor one made for the write before the last."""
    lock = tmp_path / "voxform.lock"
    index = tmp_path / "voxform.lock.index"
    assert not save_index(lock, index, tmp_path)
    broken = LockState({"a": replace(usual().items["b/p1"], url="http://x/\nb")})
    write_lockfile(lock, broken)
    assert not save_index(lock, index, tmp_path)
    assert not index.exists()
    assert not save_index(lock, index, tmp_path)  # taken once


def test_an_entry_unlike_its_index_is_refused_when_read(tmp_path: Path) -> None:
    """Should an index and its lockfile disagree (they cannot, but for a planted pair),
    reading a field from the lockfile says so instead of mixing the two."""
    lock, index = applied(tmp_path)
    indexed = read_lockfile(lock, index=index)
    entry = indexed.items["b/p1"]
    key, source, start, end = vars(entry)["_block"]
    block = json.loads(source.data[start:end])
    block["fingerprint"] = OTHER
    source.data = json.dumps({"b/p1": block}).encode()
    vars(entry)["_block"] = (key, source, 8, len(source.data) - 1)
    with pytest.raises(LockfileError, match="is not what its index says"):
        _ = entry.inputs


def test_an_index_of_many_entries_all_read_reads_the_lockfile_once(tmp_path: Path) -> None:
    """Writing the lockfile again reads every entry: past a few one by one, the rest are
    filled from one reading of the whole lockfile, to the same bytes."""
    finished = usual().items["b/p1"]
    many = LockState({f"b/p{n:03d}": replace(finished, characters=n) for n in range(200)})
    lock, index = applied(tmp_path, many)
    indexed = read_lockfile(lock, index=index)
    entries = list(indexed.items.values())
    assert entries[0].job_id == finished.job_id
    assert sum("_block" in vars(e) for e in entries) == 199
    assert indexed.to_bytes() == lock.read_bytes()
    assert not any("_block" in vars(e) for e in entries)
    assert spelt(indexed) == spelt(read_lockfile(lock))
    assert indexed.items == many.items


@pytest.mark.parametrize(
    "outputs",
    [
        {"a.srt": FileDigest("not hex", 3)},
        {"a.srt": FileDigest(SHA, True)},  # type: ignore[arg-type]
        {"a.srt": FileDigest(SHA, -1)},
        {"oss://gen-bucket/a.srt": FileDigest(SHA, 3)},
        {"a.mp3": ObjectDigest('"A"', 3)},
        {"oss://gen-bucket/a.mp3": ObjectDigest('"A B"', 3)},
        {"oss://gen-bucket/a.mp3": ObjectDigest("", 3)},
        {"oss://Gen-Bucket/a.mp3": ObjectDigest('"A"', 3)},
        {"oss://gen-bucket//a.mp3": ObjectDigest('"A"', 3)},
        {"oss://gen-bucket/": ObjectDigest('"A"', 3)},
        {"oss://gen-bucket/" + "k" * 1024: ObjectDigest('"A"', 3)},
        {"oss://gen-bucket/a.mp3": ObjectDigest('"A"', 3, 1 << 64)},
    ],
)
def test_no_index_for_outputs_the_quick_reading_would_not_take(
    tmp_path: Path, outputs: dict[str, FileDigest | ObjectDigest]
) -> None:
    """Whatever the quick reading gives up on (the full one then refuses it, or reads it
    its own way), the index does not hold either."""
    lock = tmp_path / "voxform.lock"
    entry = replace(usual().items["b/p1"], outputs=outputs)
    write_lockfile(lock, LockState({"b/p1": entry}))
    assert not save_index(lock, tmp_path / "voxform.lock.index", tmp_path)
    write_lockfile(lock, LockState({"b/p1": usual().items["b/p1"]}))  # its usual outputs
    assert save_index(lock, tmp_path / "voxform.lock.index", tmp_path)


def test_entries_asked_for_by_many_threads_at_once_are_filled_once_each(
    tmp_path: Path,
) -> None:
    finished = usual().items["b/p1"]
    many = LockState({f"b/p{n:03d}": replace(finished, characters=n) for n in range(300)})
    lock, index = applied(tmp_path, many)
    indexed = read_lockfile(lock, index=index)
    entries = list(indexed.items.values())
    found: list[object] = []
    start = threading.Barrier(8)

    def read(offset: int) -> None:
        start.wait()
        for entry in entries[offset:] + entries[:offset]:
            found.append(entry.inputs)

    threads = [threading.Thread(target=read, args=(n * 37,)) for n in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switched as often as they can be
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(found) == 8 * 300 and all(inputs == finished.inputs for inputs in found)
    assert indexed.to_bytes() == lock.read_bytes()
