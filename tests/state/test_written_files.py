"""Files apply writes go into the stat cache as written: the plan after it reads none."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from voxform.apply.subtitles import write_subtitles
from voxform.ice.wire import Segment
from voxform.state.outputs import (
    FileDigest,
    ObjectDigest,
    StatCache,
    digest_of,
    drift,
    remember_written,
    save_written,
)
from voxform.state.racy import RACY_NS, SETTLE_NS, settled, unsettled

SEGMENTS = [Segment("Welcome to the course.", 0.0, 1.5)]
LATER = RACY_NS + 1_000_000_000  # a cache written this long after the files


def written(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path / "project"
    root.mkdir()
    names, _ = write_subtitles(root, "build/audio/lesson", SEGMENTS)
    return root, root / ".voxform/stat-cache.json", names


def test_the_files_written_are_in_the_stat_cache_with_their_stat_and_digest(
    tmp_path: Path,
) -> None:
    root, cache, names = written(tmp_path)
    assert save_written(root, cache, now_ns=time.time_ns() + LATER) == 2
    entries = json.loads(cache.read_text())
    for name in names.values():
        st = os.lstat(root / name)
        sha = hashlib.sha256((root / name).read_bytes()).hexdigest()
        assert entries[name] == [st.st_size, st.st_mtime_ns, st.st_ino, sha]
    assert save_written(root, cache) == 0  # noted once: the next apply starts afresh


def test_files_written_in_the_tick_of_the_caches_writing_are_left_out(tmp_path: Path) -> None:
    root, cache, names = written(tmp_path)
    oldest = min(os.lstat(root / name).st_mtime_ns for name in names.values())
    assert save_written(root, cache, now_ns=oldest + SETTLE_NS) == 2
    assert not cache.exists()  # a write in the same tick would not show: nothing to keep


def written_at(root: Path, name: str, mtime_ns: int) -> None:
    """Project file `name`, remembered as written by this process with mtime `mtime_ns`."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(name.encode())
    os.utime(path, ns=(mtime_ns, mtime_ns))
    remember_written(root, name, os.lstat(path), digest_of(name.encode()))


def test_a_fine_stamp_settles_a_tick_after_it_and_a_millisecond_one_in_racy_ns(
    tmp_path: Path,
) -> None:
    # The plan right after an apply: the subtitles of the apply's last seconds are cached
    # as written, a few milliseconds later. Stamps in whole milliseconds may come from a
    # coarser clock: they wait RACY_NS.
    root = tmp_path / "project"
    cache = root / ".voxform/stat-cache.json"
    at = 1_700_000_000_123_456_789
    written_at(root, "fine.vtt", at)
    written_at(root, "coarse.vtt", at - 456_789)  # whole milliseconds
    written_at(root, "later.vtt", at + SETTLE_NS // 2)  # within the tick of the writing
    assert save_written(root, cache, now_ns=at + SETTLE_NS + 1) == 3
    assert set(json.loads(cache.read_text())) == {"fine.vtt"}

    assert settled(at, at + SETTLE_NS + 1) and not settled(at, at + SETTLE_NS)
    assert not settled(at - 456_789, at + RACY_NS - 456_789)
    assert settled(at - 456_789, at + RACY_NS - 456_788)
    assert unsettled([at, -1, at - 456_789]) == at + SETTLE_NS
    assert unsettled([at - 456_789, -1]) == at - 456_789 + RACY_NS


def test_a_file_is_trusted_from_a_tick_after_its_change_to_the_caches_opening(
    tmp_path: Path,
) -> None:
    # A file read by a plan is racily clean when it changed in the tick before the cache
    # was opened (every read comes after), however long after that the cache is written.
    root = tmp_path / "project"
    cache = root / ".voxform/stat-cache.json"
    found = StatCache(cache, root=root)
    recent = found.opened - SETTLE_NS
    settled_one = recent - 2 if (recent - 2) % 1_000_000 else recent - 3
    for name, mtime in (("recent.vtt", recent), ("settled.vtt", settled_one)):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"WEBVTT\n")
        os.utime(path, ns=(mtime, mtime))
        assert found.digest(root, name) == digest_of(b"WEBVTT\n")
    found.save()
    assert set(json.loads(cache.read_text())) == {"settled.vtt"}


def test_a_cache_that_learnt_only_racily_clean_files_is_not_written_again(
    tmp_path: Path,
) -> None:
    """The plan right after an apply reads the files of the apply's last clock tick again
    (racily clean when they were cached); all it learns is as racily clean, so rewriting
    the cache would write what it read. One thing learnt that is not: it is written."""
    root, cache, names = written(tmp_path)
    vtt = names["vtt"]
    assert save_written(root, cache, now_ns=time.time_ns() + LATER) == 2
    (root / vtt).write_text("WEBVTT\n\nchanged just now\n")
    soon = time.time_ns() + RACY_NS + 1  # not settled when the cache below is opened
    os.utime(root / vtt, ns=(soon, soon))
    before = cache.read_bytes(), cache.stat().st_mtime_ns, cache.stat().st_ino

    again = StatCache(cache, root=root)
    assert again.digest(root, vtt) == digest_of((root / vtt).read_bytes())  # racily clean
    again.save()
    assert (cache.read_bytes(), cache.stat().st_mtime_ns, cache.stat().st_ino) == before

    later = StatCache(cache, root=root)
    assert later.digest(root, vtt) is not None
    later.save(now_ns=soon + LATER)  # no longer racily clean: it is kept
    st = os.lstat(root / vtt)
    assert json.loads(cache.read_text())[vtt][:3] == [st.st_size, st.st_mtime_ns, st.st_ino]


def test_a_file_changed_after_it_was_written_is_read_again(tmp_path: Path) -> None:
    root, cache, names = written(tmp_path)
    vtt = root / names["vtt"]
    data = vtt.read_bytes()
    vtt.write_bytes(data[:-1] + b"!")  # same size, later mtime
    past = time.time_ns() - 10 * RACY_NS
    os.utime(vtt, ns=(past, past))
    save_written(root, cache, now_ns=time.time_ns() + LATER)
    found = StatCache(cache).digest(root, names["vtt"])
    assert found is not None
    assert found.sha256 == hashlib.sha256(vtt.read_bytes()).hexdigest()


def test_a_cached_file_is_checked_against_the_digest_the_lockfile_records(
    tmp_path: Path,
) -> None:
    # The stat cache says what the file holds; drift compares that with what the lockfile
    # records, which another branch's lockfile may record differently for the same file.
    root, cache, names = written(tmp_path)
    save_written(root, cache, now_ns=time.time_ns() + LATER)
    vtt, srt = names["vtt"], names["srt"]
    held = {n: digest_of((root / n).read_bytes()) for n in (vtt, srt)}
    other = FileDigest("0" * 64, held[vtt].size)
    recorded = [
        ("same", dict(held)),
        ("other", {srt: held[srt], vtt: other}),
        ("bigger", {vtt: FileDigest(held[vtt].sha256, held[vtt].size + 1)}),
        ("object", {"oss://audio/a.mp3": ObjectDigest('"A"', 3), vtt: held[vtt]}),
        ("gone", {"build/audio/none.vtt": held[vtt]}),
    ]
    assert drift(root, recorded, StatCache(cache)) == {
        "other": f"output file changed: {vtt}",
        "bigger": f"output file changed: {vtt}",
        "gone": "output file missing: build/audio/none.vtt",
    }
