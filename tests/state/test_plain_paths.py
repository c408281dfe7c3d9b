"""Drift checks each recorded file's name is a plain project path, its folder looked at
once for all the files in it: the same answer as looking at the whole name each time."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voxform.state.outputs import _plain, _plain_in

PARTS = st.sampled_from(["a", "b.vtt", "", ".", "..", ".x", "a\\b", "a\x00", " ", "é"])
NAMES = st.lists(PARTS, min_size=1, max_size=5).map("/".join)


@given(st.lists(NAMES, min_size=1, max_size=20))
def test_a_name_is_plain_alike_whether_its_folder_was_seen_or_not(names: list[str]) -> None:
    folders: dict[str, bool] = {}
    for name in names:
        assert _plain_in(name, folders) == _plain(name), name
        assert _plain_in(name, {}) == _plain(name), name


def test_what_is_not_plain() -> None:
    folders: dict[str, bool] = {}
    for name in ("subtitles/a.vtt", "a.vtt", "a/.b/c.srt"):
        assert _plain_in(name, folders)
    for name in ("", "/a.vtt", "a/", "a//b", "a/./b", "a/../b", "..", "a\\b/c", "a/b\x00"):
        assert not _plain_in(name, folders), name
