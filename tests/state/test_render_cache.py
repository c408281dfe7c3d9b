"""The render cache's key and file: what it must read, and what it refuses to believe."""

from __future__ import annotations

import pickle
import shutil
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path

import pytest

from conftest import Runner
from state.loading import everything
from voxform.plan.fingerprint import audio_digest, fingerprint
from voxform.project import load_project
from voxform.render.model import Item, Prints, RenderedItem
from voxform.render.results import ItemResult
from voxform.state.cached_rendered import CachedRendered
from voxform.state.cachefile import CacheTable, read_cache, write_cache
from voxform.state.render_cache import ITEM_FIELDS, RENDER_CACHE, RenderCache, project_identity

SENTENCES = [f"Sentence number {n} walks along the quiet river bank at dawn." for n in range(40)]
SPLIT = """
    version: 1
    targets: {local: {provider: local, path: out, max_input_chars: 400}}
    voices: {n: {voice: siqi}}
    defaults: {voice: n, format: wav, target: local}
    sources: [{id: book, glob: "texts/*.md", split: paragraph}]
"""
DYNAMIC = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    templates: {pick: templates/pick.j2}
    defaults: {voice: n, format: wav, target: local, template: pick}
    items: [{id: one, text: Hello there., vars: {part: templates/a.j2}}]
"""


def test_the_key_reads_every_field_of_an_item() -> None:
    """A field added to Item must be added to RenderCache.key (and then here)."""
    assert tuple(f.name for f in fields(Item)) == ITEM_FIELDS


def test_parts_of_a_long_chunk_are_cached_with_the_ids_the_lockfile_gives_them(
    project: Callable[[dict[str, str]], Path], voxform: Runner
) -> None:
    root = project({"voxform.yaml": SPLIT, "texts/story.md": " ".join(SENTENCES) + "\n"})
    assert voxform(root, "apply", "--yes").exit_code == 0
    text = root / "texts/story.md"
    text.write_text(" ".join(["An opening sentence, new here.", *SENTENCES]) + "\n")
    warm = everything(root, cached=True)
    assert len(warm[0]) > 3  # type: ignore[arg-type]
    assert warm == everything(root, cached=False)
    assert everything(root, cached=True) == warm


def test_a_template_including_a_computed_name_is_rendered_afresh_each_time(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project(
        {
            "voxform.yaml": DYNAMIC,
            "templates/pick.j2": "<speak>{% include vars.part %}{{ text }}</speak>\n",
            "templates/a.j2": "First. ",
        }
    )
    before = everything(root, cached=True)
    (root / "templates/a.j2").write_text("Second. ")
    after = everything(root, cached=True)
    assert after != before
    assert after == everything(root, cached=False)


def table_of(strings: list[str | None]) -> CacheTable:
    table = CacheTable()
    table.record(b"k" * 32)
    table.number(len(strings))
    for value in strings:
        table.text(value)
    return table


def test_a_cache_file_gives_back_its_strings_and_numbers(tmp_path: Path) -> None:
    strings = ["plain", "ünïcödé 中文", "", None, "lone \ud800 surrogate", "plain"]
    write_cache(tmp_path / "c", tmp_path, "kind", "me", table_of(strings))
    reader = read_cache(tmp_path / "c", "kind", "me")
    assert reader is not None
    at = reader.records[b"k" * 32]
    count = reader.ints[at]
    assert [reader.text(i) for i in reader.ints[at + 1 : at + 1 + count]] == strings


@pytest.mark.parametrize(
    ("kind", "identity", "change"),
    [
        ("other", "me", None),
        ("kind", "another project", None),
        ("kind", "me", lambda data: data[:-1]),
        ("kind", "me", lambda data: data[:-1] + bytes([data[-1] ^ 1])),
        ("kind", "me", lambda data: data.replace(b'"order": "little"', b'"order": "big"   ')),
        ("kind", "me", lambda data: b"garbage" + data),
    ],
)
def test_a_cache_of_another_kind_or_project_or_damaged_is_not_read(
    tmp_path: Path, kind: str, identity: str, change: Callable[[bytes], bytes] | None
) -> None:
    path = tmp_path / "c"
    write_cache(path, tmp_path, "kind", "me", table_of(["a", "b"]))
    if change is not None:
        path.write_bytes(change(path.read_bytes()))
    assert read_cache(path, kind, identity) is None


def test_a_cache_behind_a_symlink_is_not_read(tmp_path: Path) -> None:
    write_cache(tmp_path / "real", tmp_path, "kind", "me", table_of(["a"]))
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert read_cache(tmp_path / "real", "kind", "me") is not None
    assert read_cache(tmp_path / "link", "kind", "me") is None


MIXED = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    templates: {odd: templates/odd.j2}
    defaults: {voice: n, format: wav, target: local}
    items:
      - {id: plain, text: Hello there.}
      - {id: doubted, text: A doubtful tag., template: odd}
      - {id: wrong, text: "Broken <b>markup", template: odd}
    sources: [{id: book, glob: "texts/*.md"}]
"""


def test_each_kind_of_result_comes_back_from_the_cache_as_it_was_rendered(
    project: Callable[[dict[str, str]], Path],
) -> None:
    """Plain results (kept as what their render made), results with warnings or problems
    (kept whole), a lexicon-free source paragraph with a non-ASCII and a NUL-free text."""
    root = project(
        {
            "voxform.yaml": MIXED,
            "templates/odd.j2": "<speak><blink>{{ text }}</blink></speak>",
            "texts/a.md": "Ünïcödé paragraph, 中文.\n\nA second one.\n",
        }
    )
    cold = everything(root, cached=False)
    rendered, problems = cold
    assert any(p.severity == "warning" for p in problems)  # type: ignore[attr-defined]
    assert len(rendered) >= 3  # type: ignore[arg-type]
    assert everything(root, cached=True) == cold
    assert everything(root, cached=True) == cold


ICE = """
    version: 1
    targets: {out: {provider: ice, region: cn-shanghai, bucket: my-bucket, prefix: p/}}
    voices: {n: {voice: siqi}}
    defaults: {voice: n, format: mp3, target: out}
    sources: [{id: book, glob: "texts/*.md"}]
"""


ICE_TARGET = "local: {provider: ice, region: cn-shanghai, bucket: my-bucket, prefix: p/}"


class _Engine:
    """The plan's fingerprints for an ICE target, as if its engine were `version`."""

    def __init__(self, version: str | None) -> None:
        self.version = version

    def engine(self, target: str) -> tuple[str, str | None]:
        return "ice", self.version

    def prints(self, rendered: RenderedItem) -> Prints:
        version = self.version
        return (
            "ice",
            version,
            fingerprint(rendered, "ice", version),
            audio_digest(rendered, "ice", version),
        )


def test_the_fingerprints_kept_are_the_plans_and_only_for_their_engine(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project({"voxform.yaml": ICE, "texts/a.md": "One paragraph.\n\nAnother one.\n"})
    load_project(root)  # renders, and keeps the fingerprints for the target's engine
    kept = load_project(root).rendered
    assert kept and all(r.prints is not None for r in kept)
    for rendered in kept:
        assert rendered.prints == _Engine(None).prints(rendered)

    loaded = load_project(root)
    items = [r.item for r in loaded.rendered]
    path = root / ".voxform" / RENDER_CACHE
    for version in ("espeak 2", None):  # another engine's are worked out, not believed
        memo = RenderCache(
            path,
            loaded.project,
            {},
            identity=project_identity(loaded.project),
            printer=_Engine(version),
        )
        found = [memo.get(item) for item in items]
        memo.save()
        prints = [result.rendered[0].prints for result in found if result is not None]
        assert len(prints) == len(items)
        assert prints == [_Engine(version).prints(r) for r in loaded.rendered]
        assert prints[0] is not None and prints[0][1] == version


def test_a_plain_result_read_back_builds_its_request_and_digests_as_the_render_did(
    project: Callable[[dict[str, str]], Path],
) -> None:
    """A plain record comes back as a CachedRendered whose request and digests are put
    together when first read: each is the value a fresh render makes, and it pickles as
    the RenderedItem it stands for."""
    root = project({"voxform.yaml": ICE, "texts/a.md": "One paragraph.\n\nAnother, 中文.\n"})
    shutil.rmtree(root / ".voxform", ignore_errors=True)
    fresh = load_project(root).rendered
    warm = load_project(root).rendered
    assert len(warm) == len(fresh) == 2
    for cached, rendered in zip(warm, fresh, strict=True):
        assert isinstance(cached, CachedRendered)
        assert cached.digests == rendered.digests
        assert cached.request == rendered.request
        assert (cached.characters, cached.legacy_input) == (
            rendered.characters,
            rendered.legacy_input,
        )
        assert cached == rendered and rendered == cached
        copied = pickle.loads(pickle.dumps(cached))
        assert type(copied) is RenderedItem and copied == rendered
    other = load_project(root).rendered[0]
    assert isinstance(other, CachedRendered)
    assert other.request.input == fresh[0].request.input  # the request before the digests
    assert other != fresh[1]


@pytest.mark.parametrize("version", [None, "espeak 2"])
def test_many_items_are_read_back_as_one_by_one(
    project: Callable[[dict[str, str]], Path], version: str | None
) -> None:
    """get_many, the loop a load reads the file in, answers and learns what get would for
    each item: plain records, kept whole ones (a warning, a problem), the fingerprints of
    their engine kept and another engine's worked out anew."""
    root = project(
        {
            "voxform.yaml": MIXED.replace("local: {provider: local, path: out}", ICE_TARGET),
            "templates/odd.j2": "<speak><blink>{{ text }}</blink></speak>",
            "texts/a.md": "Ünïcödé paragraph, 中文.\n\nA second one.\n",
        }
    )
    load_project(root)
    loaded = load_project(root)
    items = [r.item for r in loaded.rendered] + [loaded.rendered[0].item]

    def memo() -> RenderCache:
        return RenderCache(
            root / ".voxform" / RENDER_CACHE,
            loaded.project,
            {},
            identity=project_identity(loaded.project),
            printer=_Engine(version),
        )

    many, one = memo(), memo()
    found = many.get_many([*items, replace(items[0], id="elsewhere")])
    assert found[-1] is None
    ones = [one.get(item) for item in items]
    assert found[:-1] == ones
    assert all(r is not None for r in found[:-1]) and len(found) > 4

    def prints(results: list[ItemResult | None]) -> list[list[Prints | None]]:
        return [[r.prints for r in result.rendered] for result in results if result]

    assert prints(found[:-1]) == prints(ones)  # not part of an item's value: looked at apart
    assert (many.results, many.read, many.learnt) == (one.results, one.read, one.learnt)
    assert many.learnt == (version is not None)
