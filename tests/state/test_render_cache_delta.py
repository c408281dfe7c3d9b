"""After a few edits the render cache writes only the new records, in a delta over the file;
after many, the whole file again. Either way a plan renders what it would without them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from state.loading import everything
from voxform.state.render_cache import DELTA, DELTA_MIN, DELTA_SHARE, RENDER_CACHE

PARAGRAPHS = DELTA_MIN + 100
MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    defaults: {voice: n, format: wav, target: local}
    sources: [{id: book, glob: "texts/*.md", split: paragraph}]
"""


def book(edited: int = 0) -> str:
    paragraphs = [f"Paragraph {n} tells of the river at dawn." for n in range(PARAGRAPHS)]
    for n in range(edited):
        paragraphs[n * 7] += " Edited."
    return "\n\n".join(paragraphs) + "\n"


def test_a_few_new_records_go_in_a_delta_and_many_rewrite_the_file(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project({"voxform.yaml": MANIFEST, "texts/book.md": book()})
    cache, delta = root / ".voxform" / RENDER_CACHE, root / ".voxform" / (RENDER_CACHE + DELTA)
    everything(root, cached=True)
    whole = cache.read_bytes()

    (root / "texts/book.md").write_text(book(edited=3))
    edited = everything(root, cached=True)
    assert cache.read_bytes() == whole  # the records of 3 items went in the delta only
    assert delta.is_file()
    assert everything(root, cached=True) == edited  # read back from both files
    assert cache.read_bytes() == whole

    many = PARAGRAPHS // DELTA_SHARE
    (root / "texts/book.md").write_text(book(edited=many))
    rewritten = everything(root, cached=True)
    assert cache.read_bytes() != whole
    assert not delta.exists()  # written whole again: a delta over the old file is gone
    assert everything(root, cached=True) == rewritten
    assert rewritten == everything(root, cached=False)


def test_a_damaged_delta_is_ignored_and_made_again(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project({"voxform.yaml": MANIFEST, "texts/book.md": book()})
    delta = root / ".voxform" / (RENDER_CACHE + DELTA)
    everything(root, cached=True)
    (root / "texts/book.md").write_text(book(edited=3))
    edited = everything(root, cached=True)
    made = delta.read_bytes()
    delta.write_bytes(made[: len(made) // 2])

    assert everything(root, cached=True) == edited
    assert delta.read_bytes() == made  # its records rendered again, and written again
    assert everything(root, cached=False) == edited
