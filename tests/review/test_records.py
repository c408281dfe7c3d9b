"""The caches' records: one index file, read once and written once per review."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voxform.review import records
from voxform.review.records import Records


def test_two_reviews_keep_each_others_records_and_a_damaged_index_is_empty(
    tmp_path: Path,
) -> None:
    folder = tmp_path / ".voxform/cache"
    first, second = Records(folder, tmp_path), Records(folder, tmp_path)
    first.put("a", {"n": 1})
    second.put("b", {"n": 2})
    first.flush()
    second.flush()
    again = Records(folder, tmp_path)
    assert (again.get("a"), again.get("b"), again.get("c")) == ({"n": 1}, {"n": 2}, None)
    (folder / records.INDEX).write_bytes(b'{"a": {"n": 1}, "b": [')  # torn
    assert Records(folder, tmp_path).get("a") is None


def test_records_beyond_the_limit_go_oldest_first_but_never_this_reviews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "KEEP", 2)
    folder = tmp_path / "cache"
    for name in ("old", "older", "newer", "newest"):
        made = Records(folder, tmp_path)
        made.put(name, {})
        made.flush()
    last = Records(folder, tmp_path)
    last.put("mine", {})
    assert last.get("old") is None  # gone before this review: two kept beyond the last's
    last.flush()
    kept = Records(folder, tmp_path)
    assert [n for n in ("old", "older", "newer", "newest", "mine") if kept.get(n) is not None] == [
        "newer",
        "newest",
        "mine",
    ]


@pytest.mark.parametrize("planted", ["symlink", "fifo"])
def test_an_index_that_is_not_a_regular_file_of_its_own_is_not_read(
    tmp_path: Path, planted: str
) -> None:
    folder = tmp_path / ".voxform/cache"
    folder.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text('{"a": {"n": 1}}')
    index = folder / records.INDEX
    if planted == "symlink":
        index.symlink_to(elsewhere)
    else:
        os.mkfifo(index)  # read as a file, it would wait for a writer forever
    assert Records(folder, tmp_path).get("a") is None
