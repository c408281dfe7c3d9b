"""A large source cache is not written again for a few files read (an edit): those files
are read again next time, and the plans stay what they would be without the cache."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from state.loading import everything
from voxform.state.source_cache import REREAD_MIN, REREAD_SHARE, SOURCE_CACHE

LONG_AGO = 1_000_000_000_000_000_000
FILES = REREAD_MIN // 2 + 100  # a stat record and a text record each
MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    defaults: {voice: n, format: wav, target: local}
    sources: [{id: notes, glob: "texts/*.txt", split: paragraph}]
"""


def edit(root: Path, number: int, words: str) -> None:
    path = root / f"texts/n{number:04d}.txt"
    path.write_text(path.read_text() + f"\n{words}\n")


def test_a_few_files_read_leave_the_cache_as_it_was_and_are_read_again(
    project: Callable[[dict[str, str]], Path],
) -> None:
    files = {f"texts/n{n:04d}.txt": f"Note {n} on the river.\n" for n in range(FILES)}
    root = project({"voxform.yaml": MANIFEST, **files})
    cache = root / ".voxform" / SOURCE_CACHE
    for path in (root / "texts").iterdir():
        os.utime(path, ns=(LONG_AGO, LONG_AGO))  # not racily clean: their stats are kept
    everything(root, cached=True)
    whole = cache.read_bytes()

    edit(root, 7, "A second paragraph.")
    first = everything(root, cached=True)
    assert cache.read_bytes() == whole  # one file of 600 read: not worth writing all
    edit(root, 7, "A third one.")  # the same file again: read again, not trusted
    second = everything(root, cached=True)
    assert second != first
    assert cache.read_bytes() == whole
    assert second == everything(root, cached=False)

    everything(root, cached=True)
    whole = cache.read_bytes()
    for n in range(FILES // REREAD_SHARE + 1):  # more than one in REREAD_SHARE
        edit(root, n, "Another paragraph.")
    many = everything(root, cached=True)
    assert cache.read_bytes() != whole
    assert many == everything(root, cached=False)
