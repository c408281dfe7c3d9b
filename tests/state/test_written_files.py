"""Files apply writes go into the stat cache as written: the plan after it reads none."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from voxform.apply.subtitles import write_subtitles
from voxform.ice.wire import Segment
from voxform.state.outputs import RACY_NS, StatCache, save_written

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


def test_files_written_just_now_are_left_out_as_racily_clean(tmp_path: Path) -> None:
    root, cache, _ = written(tmp_path)
    assert save_written(root, cache) == 2
    assert json.loads(cache.read_text()) == {}  # a write in the same tick would not show


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
