"""A source file's block tells its items' results (state/late_rendered.py) for a target
whose fingerprints the caches keep (ICE): the render cache is then not read for them. That
changes no plan: after every kind of edit, `plan --json` prints the same bytes with the
caches of the previous command as with none, and the caches are written as afresh; a told
result whose record is gone, or not what the block tells, is made and written again."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Runner, copy_example
from e2e.test_plan_cache import EDITS as CACHE_EDITS
from e2e.test_plan_cache import replace_in
from voxform.project import LoadedProject, load_project
from voxform.render.model import RenderedItem
from voxform.state import render_records
from voxform.state.block_cache import BLOCK_CACHE
from voxform.state.cached_rendered import CachedRendered
from voxform.state.cachefile import read_keys
from voxform.state.late_rendered import LateRendered
from voxform.state.render_cache import KIND, RENDER_CACHE, RenderCache, project_identity

ICE_TARGET = "ice: {provider: ice, region: cn-shanghai, bucket: my-bucket, prefix: course/}"


# The edits of test_plan_cache.py, but for the target's: an ICE target's prefix changed. The
# lockfile's edit and those of output files need an apply (there the quickstart's, against
# its local target).
LOCAL_ONLY = ("target", "lockfile", "output deleted", "outputs gone")
EDITS: dict[str, Callable[[Path], None]] = {
    **{kind: edit for kind, edit in CACHE_EDITS.items() if kind not in LOCAL_ONLY},
    "target": lambda r: replace_in(r / "voxform.yaml", "prefix: course/", "prefix: lessons/"),
}


@pytest.fixture
def ice(tmp_path: Path) -> Path:
    """The quickstart with an ICE target (the chapters its two source files) and its
    lesson template including another file."""
    root = copy_example("quickstart", tmp_path / "quickstart")
    manifest = root / "voxform.yaml"
    replace_in(manifest, "local: {provider: local, path: build/audio}", ICE_TARGET)
    replace_in(manifest, "target: local}", "target: ice}")
    (root / "templates/intro.j2").write_text("<s>Welcome to lesson {{ vars.number }}.</s>\n")
    replace_in(
        root / "templates/lesson.ssml.j2", "<speak>", '<speak>{% include "templates/intro.j2" %}'
    )
    return root


def caches(root: Path) -> list[bytes]:
    return [(root / ".voxform" / name).read_bytes() for name in (RENDER_CACHE, BLOCK_CACHE)]


def rendered(root: Path) -> tuple[object, ...]:
    loaded: LoadedProject = load_project(root)
    return tuple(loaded.rendered), tuple(loaded.problems)


def chapters(loaded: LoadedProject) -> list[object]:
    return [r for r in loaded.rendered if r.item.id.startswith("chapters/")]


@pytest.mark.parametrize("kind", list(EDITS))
def test_a_plan_with_told_results_is_the_plan_without_caches_after_each_kind_of_edit(
    ice: Path, voxform: Runner, kind: str
) -> None:
    before = voxform(ice, "plan", "--json").output  # the caches made
    assert voxform(ice, "plan", "--json").output == before  # told by the blocks
    unedited = rendered(ice)
    EDITS[kind](ice)

    cached = voxform(ice, "plan", "--json")
    kept = caches(ice)
    with_caches = rendered(ice)
    shutil.rmtree(ice / ".voxform")
    without = voxform(ice, "plan", "--json")
    afresh = caches(ice)
    shutil.rmtree(ice / ".voxform")

    assert cached.exit_code == 0, cached.output
    assert cached.output == without.output
    assert kept == afresh  # records copied as told are the records made anew
    assert with_caches != unedited  # the edit shows: this test could fail
    assert with_caches == rendered(ice)


def test_a_second_load_takes_each_chapter_from_its_block_without_its_record(
    ice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = load_project(ice)
    assert not any(isinstance(r, CachedRendered) for r in fresh.rendered)

    import voxform.state.render_cache as render_cache

    asked: list[str] = []

    def decoding(*args: Any) -> Any:
        asked.extend(item.id for item in args[3])
        return render_records.decode_plains(*args)

    monkeypatch.setattr(render_cache, "decode_plains", decoding)
    told = load_project(ice)
    monkeypatch.undo()

    assert chapters(told) and all(isinstance(r, LateRendered) for r in chapters(told))
    assert asked and not any(i.startswith("chapters/") for i in asked)  # the items' alone
    for late, made in zip(told.rendered, fresh.rendered, strict=True):
        assert late.prints == made.prints
        assert late.characters == made.characters
        assert late.request == made.request and late.digests == made.digests
        assert late == made


def test_told_results_whose_records_are_gone_are_made_and_written_again(
    ice: Path, voxform: Runner
) -> None:
    first = voxform(ice, "plan", "--json").output
    afresh = caches(ice)
    (ice / ".voxform" / RENDER_CACHE).unlink()  # the blocks are still there

    loaded = load_project(ice)  # told, and their records looked for as it is saved
    assert chapters(loaded) and all(isinstance(r, LateRendered) for r in chapters(loaded))
    assert caches(ice) == afresh  # rendered again, and written as they were
    assert voxform(ice, "plan", "--json").output == first
    assert caches(ice) == afresh


def rewritten(root: Path, keep: Callable[[bytes], bool]) -> None:
    """The render cache written again by a command whose printer had none: each record the
    same render without its fingerprints, of the keys `keep` keeps."""
    loaded = load_project(root)
    memo = RenderCache(
        root / ".voxform" / RENDER_CACHE,
        loaded.project,
        {},
        identity=project_identity(loaded.project),
    )
    assert all(found is not None for found in memo.get_many([r.item for r in loaded.rendered]))
    memo.results = {key: result for key, result in memo.results.items() if keep(key)}
    memo.read.clear()
    memo.learnt = True
    memo.save()


def sources_only(root: Path) -> None:
    """The project's manifest without its items: each item is a source's, told by its
    block when nothing of it changed."""
    manifest = root / "voxform.yaml"
    text = manifest.read_text("utf-8")
    manifest.write_text(text[: text.index("items:")] + text[text.index("sources:") :], "utf-8")


def test_a_second_load_writes_no_render_cache_unless_a_told_record_is_missing(
    ice: Path,
) -> None:
    sources_only(ice)
    loaded = load_project(ice)
    path = ice / ".voxform" / RENDER_CACHE
    identity = project_identity(loaded.project)

    def keys() -> bytes | None:
        found = read_keys(path, KIND, identity)
        return None if found is None else found[1]

    every = keys()
    rewritten(ice, lambda key: True)  # other bytes, the same keys: nothing to write
    unread = path.read_bytes()
    load_project(ice)
    assert path.read_bytes() == unread

    told = chapters(load_project(ice))[0]
    assert isinstance(told, LateRendered)
    rewritten(ice, lambda key: key != told.key)
    assert every is not None and keys() != every
    load_project(ice)  # a told result's record missing: the file is made again
    assert keys() == every


def test_a_told_result_is_settled_by_its_record_or_else_by_rendering_it_again(
    ice: Path,
) -> None:
    made = chapters(load_project(ice))
    loaded = load_project(ice)
    for path in (ice / ".voxform" / RENDER_CACHE, ice / ".voxform" / "none"):
        memo = RenderCache(path, loaded.project, {}, identity=project_identity(loaded.project))
        for fresh in made:
            assert isinstance(fresh, RenderedItem)
            key = memo.key(fresh.item)
            assert key is not None
            found = memo.settle(key, fresh.item)
            if path.exists():  # where its record is
                assert isinstance(found, tuple) and found[0] is memo.reader
            else:
                assert isinstance(found, RenderedItem)
                assert (found.request, found.digests) == (fresh.request, fresh.digests)
        assert memo.learnt == (not path.exists())  # what it rendered again is written


@pytest.mark.parametrize("name", [RENDER_CACHE, BLOCK_CACHE])
def test_a_damaged_cache_of_told_blocks_is_ignored_and_rebuilt(
    ice: Path, voxform: Runner, name: str
) -> None:
    first = voxform(ice, "plan", "--json").output
    afresh = caches(ice)
    path = ice / ".voxform" / name
    data = bytearray(path.read_bytes())
    data[-3] ^= 1  # a byte of its last record (a block's told fingerprints, a record's)
    path.write_bytes(bytes(data))

    assert voxform(ice, "plan", "--json").output == first
    assert caches(ice) == afresh


def test_an_edited_file_takes_its_unchanged_paragraphs_from_its_block_before_the_edit(
    ice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources_only(ice)
    load_project(ice)
    EDITS["text"](ice)  # one paragraph of 01-basics.md
    import voxform.state.render_cache as render_cache

    asked: list[str] = []

    def decoding(*args: Any) -> Any:
        asked.extend(item.id for item in args[3])
        return render_records.decode_plains(*args)

    opened: list[bool] = []  # whether the render cache was read when the load asked it
    get_many = RenderCache.get_many

    def answering(memo: RenderCache, items: list[Any]) -> Any:
        found = get_many(memo, items)
        opened.append(memo._files is not None)
        return found

    monkeypatch.setattr(render_cache, "decode_plains", decoding)
    monkeypatch.setattr(RenderCache, "get_many", answering)
    edited = load_project(ice)
    monkeypatch.undo()

    basics = [r for r in edited.rendered if r.item.id.startswith("chapters/01-basics/")]
    told = [r for r in basics if isinstance(r, LateRendered)]
    assert len(basics) > len(told) > 0  # the edited paragraph rendered, the others told
    assert not asked
    assert opened == [False]  # the render cache not read: the new paragraph is rendered
    kept = caches(ice)
    shutil.rmtree(ice / ".voxform")
    assert tuple(edited.rendered) == tuple(load_project(ice).rendered)
    assert caches(ice) == kept
