"""The block cache with sentences for chunks: an unchanged file's ids come from its block,
an edited one's are aligned again, and the items are those made without any cache."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from state.loading import everything

MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    defaults: {voice: n, format: wav, target: local}
    sources: [{id: book, glob: "texts/*.md", split: sentence}]
"""
TEXT = "One sentence here. Another one there.\n\nA second paragraph. With two sentences.\n"


def test_sentences_come_from_the_block_until_their_file_changes(
    project: Callable[[dict[str, str]], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project({"voxform.yaml": MANIFEST, "texts/a.md": TEXT, "texts/b.md": TEXT})
    first = everything(root, cached=True)
    import voxform.render.sources as sources

    aligned: list[str] = []
    real = sources.align

    def counting(prefix: str, digests: list[str], known: Mapping[str, str]) -> list[str]:
        aligned.append(prefix)
        return real(prefix, digests, known)

    monkeypatch.setattr(sources, "align", counting)
    assert everything(root, cached=True) == first
    assert aligned == []  # both files' ids from their blocks
    (root / "texts/b.md").write_text(TEXT.replace("Another one there.", "A new one. And more."))
    edited = everything(root, cached=True)
    assert aligned == ["book/b"]
    assert edited != first
    assert edited == everything(root, cached=False)
