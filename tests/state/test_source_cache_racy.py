"""The source cache keeps a file's stat only when the file's last change is a clock tick
older than the cache's opening (state/racy.py): one changed in that tick is read again."""

from __future__ import annotations

import os
from pathlib import Path

from voxform.state.racy import SETTLE_NS
from voxform.state.source_cache import SourceCache

TEXT = "One paragraph.\n\nAnother one.\n"
PARAGRAPHS = ["One paragraph.", "Another one."]


def opened(tmp_path: Path) -> SourceCache:
    return SourceCache(tmp_path / "source-cache", tmp_path, identity="racy", limit=1 << 20)


def test_a_source_changed_in_the_tick_before_the_caches_opening_is_read_again(
    tmp_path: Path,
) -> None:
    cache = opened(tmp_path)
    recent = cache.opened - SETTLE_NS  # not settled when the cache was opened
    settled = recent - 2 if (recent - 2) % 1_000_000 else recent - 3  # a tick before
    paths = {"recent.txt": recent, "settled.txt": settled}
    for name, mtime in paths.items():
        path = tmp_path / name
        path.write_text(TEXT)
        os.utime(path, ns=(mtime, mtime))
        if name == "recent.txt":
            assert cache.paragraphs(path, False) is None  # nothing known yet: parsed
            cache.learn(path, TEXT, False, PARAGRAPHS)
        else:
            assert cache.paragraphs(path, False) == PARAGRAPHS  # the same text: known
    cache.save()  # however long after the files were read

    again = opened(tmp_path)
    assert again.paragraphs(tmp_path / "settled.txt", False) == PARAGRAPHS
    assert again.reread == 0  # its stat vouched for its text: not read
    assert again.paragraphs(tmp_path / "recent.txt", False) == PARAGRAPHS
    assert again.reread == 1  # racily clean: read again (its text known, not parsed)
