"""The caches in `.voxform/` change no plan: after every kind of edit, `plan --json` prints
the same bytes with the caches of the previous command as with none, and everything
rendered is equal. A cache that is damaged or another project's is ignored and rebuilt."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner, copy_example
from voxform.project import LoadedProject, load_project
from voxform.state.block_cache import BLOCK_CACHE
from voxform.state.render_cache import RENDER_CACHE
from voxform.state.source_cache import SOURCE_CACHE

CACHES = (RENDER_CACHE, SOURCE_CACHE, BLOCK_CACHE)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def chapter(root: Path, name: str) -> Path:
    return root / "texts/chapters" / name


def insert_paragraph(root: Path) -> None:
    path = chapter(root, "02-joins.md")
    blocks = path.read_text("utf-8").split("\n\n")
    blocks.insert(1, "A paragraph written in between, about keys.")
    path.write_text("\n\n".join(blocks), "utf-8")


def delete_paragraph(root: Path) -> None:
    path = chapter(root, "01-basics.md")
    blocks = path.read_text("utf-8").split("\n\n")
    del blocks[1]
    path.write_text("\n\n".join(blocks), "utf-8")


def rename_file(root: Path) -> None:
    chapter(root, "02-joins.md").rename(chapter(root, "03-joins.md"))


def swap_chunks_in_lockfile(root: Path) -> None:
    """A hand edit of the lockfile: the chunks recorded for two ids swapped, so that the
    ids of that file's paragraphs are aligned the other way round."""
    path = root / "voxform.lock"
    lock = json.loads(path.read_text("utf-8"))
    first, second = (lock["items"][f"chapters/01-basics/p{n}"] for n in (1, 2))
    first["chunk"], second["chunk"] = second["chunk"], first["chunk"]
    path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n", "utf-8")


EDITS: dict[str, Callable[[Path], None]] = {
    "text": lambda r: replace_in(chapter(r, "01-basics.md"), "SELECT", "SELECT DISTINCT"),
    "insert": insert_paragraph,
    "delete": delete_paragraph,
    "template": lambda r: replace_in(r / "templates/plain.ssml.j2", "{{ text }}", "{{ text }}."),
    "include": lambda r: replace_in(r / "templates/intro.j2", "Welcome", "Hello"),
    "lexicon": lambda r: replace_in(r / "voxform.yaml", "alias: sequel", "alias: S Q L"),
    "voice": lambda r: replace_in(r / "voxform.yaml", "speech_rate: 0,", "speech_rate: 20,"),
    "vars": lambda r: replace_in(r / "voxform.yaml", "Getting started", "Starting out"),
    "format": lambda r: replace_in(r / "voxform.yaml", "format: mp3", "format: wav"),
    "target": lambda r: replace_in(r / "voxform.yaml", "path: build/audio", "path: build/sound"),
    "rename": rename_file,
    "lockfile": swap_chunks_in_lockfile,
    # Drift, told by the first file of an item found missing, with the lockfile's index
    "output deleted": lambda r: (r / "build/audio/guest-tip.wav").unlink(),
    "outputs gone": lambda r: shutil.rmtree(r / "build"),  # as in a fresh clone
}


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart with its lesson template including another file, applied once."""
    root = copy_example("quickstart", tmp_path_factory.mktemp("applied") / "quickstart")
    (root / "templates/intro.j2").write_text("<s>Welcome to lesson {{ vars.number }}.</s>\n")
    replace_in(
        root / "templates/lesson.ssml.j2", "<speak>", '<speak>{% include "templates/intro.j2" %}'
    )
    from click.testing import CliRunner

    from voxform.cli.main import cli

    result = CliRunner().invoke(cli, ["-C", str(root), "apply", "--yes"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def copy(applied: Path, tmp_path: Path) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(applied, root, symlinks=True)
    return root


def plan_without_caches(voxform: Runner, root: Path) -> str:
    shutil.rmtree(root / ".voxform")
    return voxform(root, "plan", "--json").output


def rendered(root: Path) -> tuple[object, ...]:
    loaded: LoadedProject = load_project(root)
    return tuple(loaded.rendered), tuple(loaded.problems)


@pytest.mark.parametrize("kind", list(EDITS))
def test_a_plan_with_the_caches_is_the_plan_without_them_after_each_kind_of_edit(
    copy: Path, voxform: Runner, kind: str
) -> None:
    before = voxform(copy, "plan", "--json").output  # leaves the caches warm
    assert all((copy / ".voxform" / name).is_file() for name in CACHES)
    EDITS[kind](copy)

    cached = voxform(copy, "plan", "--json")
    kept = [(copy / ".voxform" / n).read_bytes() for n in (RENDER_CACHE, BLOCK_CACHE)]
    with_caches = rendered(copy)
    without = plan_without_caches(voxform, copy)
    afresh = [(copy / ".voxform" / n).read_bytes() for n in (RENDER_CACHE, BLOCK_CACHE)]
    shutil.rmtree(copy / ".voxform")

    assert cached.exit_code in (0, 1), cached.output
    assert cached.output == without
    assert kept == afresh  # records read are written back as they are made anew
    assert cached.output != before  # the edit shows: this test could fail
    assert with_caches == rendered(copy)


def test_a_second_plan_renders_nothing_and_reads_no_unchanged_source(
    copy: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_ago = 1_000_000_000
    for path in (copy / "texts").rglob("*.md"):
        os.utime(path, ns=(long_ago, long_ago))  # not racily clean
    first = voxform(copy, "plan", "--json").output
    import voxform.render.render as render
    import voxform.render.sources as sources

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("read or rendered again")

    monkeypatch.setattr(sources, "read_text", refuse)
    monkeypatch.setattr(render, "render_item", refuse)
    monkeypatch.setattr(sources, "paragraphs", refuse)
    monkeypatch.setattr(sources, "align", refuse)  # each file's ids come from its block

    assert voxform(copy, "plan", "--json").output == first


def test_a_source_whose_stat_changed_but_not_its_text_is_read_but_not_parsed(
    copy: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = voxform(copy, "plan", "--json").output
    for path in (copy / "texts").rglob("*.md"):
        path.write_bytes(path.read_bytes())  # a fresh checkout: new stat, same bytes
    import voxform.render.sources as sources

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("parsed again")

    monkeypatch.setattr(sources, "paragraphs", refuse)

    assert voxform(copy, "plan", "--json").output == first


def damage_truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def damage_edited(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b"<speak") if b"<speak" in data else len(data) - 5
    data[at + 1 : at + 2] = b"S"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [damage_truncated, damage_edited], ids=["truncated", "edited"])
@pytest.mark.parametrize("name", CACHES)
def test_a_damaged_cache_is_ignored_and_rebuilt(
    copy: Path, voxform: Runner, name: str, damage: Callable[[Path], None]
) -> None:
    voxform(copy, "plan", "--json")
    good = (copy / ".voxform" / name).read_bytes()
    replace_in(copy / "voxform.yaml", "Getting started", "Starting out")
    voxform(copy, "plan", "--json")
    edited = (copy / ".voxform" / name).read_bytes()
    damage(copy / ".voxform" / name)

    cached = voxform(copy, "plan", "--json").output

    assert (copy / ".voxform" / name).read_bytes() in (edited, good)  # rebuilt, whole
    assert cached == plan_without_caches(voxform, copy)


def test_a_cache_copied_from_another_project_is_ignored_and_rebuilt(
    copy: Path, voxform: Runner, tmp_path: Path
) -> None:
    other = copy_example("quickstart", tmp_path / "other")
    replace_in(other / "voxform.yaml", "Getting started", "Starting out")
    voxform(other, "plan", "--json")
    voxform(copy, "plan", "--json")
    mine = {name: (copy / ".voxform" / name).read_bytes() for name in CACHES}
    for name in CACHES:
        shutil.copyfile(other / ".voxform" / name, copy / ".voxform" / name)

    cached = voxform(copy, "plan", "--json").output

    rebuilt = {name: (copy / ".voxform" / name).read_bytes() for name in CACHES}
    assert rebuilt["render-cache"] == mine["render-cache"]
    # The source cache leaves out the stat of a file changed just before it was written (a
    # racily clean file), so its bytes depend on timing: it is this project's again.
    assert header(rebuilt["source-cache"])["identity"] == header(mine["source-cache"])["identity"]
    assert rebuilt["source-cache"] != (other / ".voxform" / "source-cache").read_bytes()
    assert cached == plan_without_caches(voxform, copy)


def header(cache: bytes) -> dict[str, object]:
    """The JSON header line of a cache file (after its magic line)."""
    found: dict[str, object] = json.loads(cache.split(b"\n", 2)[1])
    return found


def test_a_source_edited_in_the_tick_the_caches_saw_it_with_its_size_is_read_again(
    copy: Path, voxform: Runner
) -> None:
    # Racily clean: a file changed in the same clock tick as the plan that cached it, its
    # size kept, has the stat the cache saw; the cache must not vouch for its text.
    path = chapter(copy, "01-basics.md")
    path.write_text(path.read_text("utf-8"), "utf-8")  # written just now
    before = os.stat(path)
    voxform(copy, "plan", "--json")
    text = path.read_text("utf-8")
    edited = text.replace("SELECT", "TCELES", 1)
    assert edited != text and len(edited) == len(text)
    path.write_text(edited, "utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    cached = voxform(copy, "plan", "--json").output

    assert "text changed" in cached
    assert cached == plan_without_caches(voxform, copy)


def test_the_first_plan_after_an_apply_takes_the_blocks_the_apply_made(
    copy: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An apply makes each file's block before it records the ids (as a plan without the
    # lockfile does here); then the lockfile knows exactly the ids and chunks of each block,
    # so the blocks are taken as they are.
    lockfile = copy / "voxform.lock"
    recorded = lockfile.read_bytes()
    lockfile.unlink()
    voxform(copy, "plan", "--json")
    lockfile.write_bytes(recorded)
    import voxform.render.sources as sources

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("aligned again")

    with monkeypatch.context() as patched:
        patched.setattr(sources, "align", refuse)
        cached = voxform(copy, "plan", "--json")
    assert cached.exit_code == 0, cached.output
    assert cached.output == plan_without_caches(voxform, copy)
