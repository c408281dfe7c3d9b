"""The note of what the render cache's files hold (state/render_held.py): it vouches for the
files as they were when it was made, for the keys it was made with, in any order, and for
nothing else: not for files changed or replaced since, nor for other keys, nor when it is
damaged, another project's, or made in the clock tick of the files' change. A plan whose
note vouches for its told results writes no render cache; one whose files changed under the
note still finds them damaged and writes them again."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Runner
from voxform.project import load_project
from voxform.state import render_held
from voxform.state.cachefile import CacheTable, read_cache, write_cache
from voxform.state.render_cache import DELTA, KIND, RENDER_CACHE, RenderCache, project_identity
from voxform.state.render_held import HELD, NOTE_MIN, SETTLE_NS, holds, note, noted

FIRST = ("a digest", b"")  # the first file's digest and keys, as a note keeps them


class Cache:
    """What a note and its files are made for (RenderCache's identity and `over`)."""

    def __init__(self, identity: str = "project") -> None:
        self.identity = identity

    def over(self, digest: str) -> str:
        return f"{self.identity} over {digest}"


def keys(count: int, seed: str = "k") -> list[bytes]:
    return [hashlib.sha256(f"{seed}{n}".encode()).digest() for n in range(count)]


def write_render(root: Path, path: Path, held: list[bytes], identity: str) -> None:
    table = CacheTable()
    for key in sorted(held):
        table.record(key)
        table.number(1)
    write_cache(path, root, KIND, identity, table)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    first = tmp_path / RENDER_CACHE
    return first, first.with_name(first.name + DELTA)


def test_a_note_vouches_for_its_files_and_their_keys_in_any_order(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    held = keys(NOTE_MIN)
    write_render(tmp_path, files[0], held, "project")
    assert not noted(files, Cache(), [held])  # no note yet
    note(tmp_path, files, "project", [held], FIRST)
    assert noted(files, Cache(), [held])
    assert noted(files, Cache(), [held[700:], held[:700][::-1]])  # the blocks' order
    assert not noted(files, Cache(), [held[1:]])  # one fewer
    assert not noted(files, Cache(), [held, keys(1, "other")])  # one more
    assert not noted(files, Cache(), [[*held[1:], keys(1, "other")[0]]])  # one other
    assert not noted(files, Cache("another"), [held])  # another project's


def test_a_note_vouches_for_nothing_once_its_files_changed(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    held = keys(NOTE_MIN)
    write_render(tmp_path, files[0], held, "project")
    note(tmp_path, files, "project", [held], FIRST)
    data = bytearray(files[0].read_bytes())
    data[-3] ^= 1  # in place: the same size and inode
    files[0].write_bytes(bytes(data))
    assert not noted(files, Cache(), [held])

    write_render(tmp_path, files[0], held, "project")  # replaced by one alike
    note(tmp_path, files, "project", [held], FIRST)
    assert noted(files, Cache(), [held])
    files[1].write_bytes(b"a delta")  # a delta where there was none
    assert not noted(files, Cache(), [held])
    note(tmp_path, files, "project", [held], FIRST)
    assert noted(files, Cache(), [held])
    files[1].unlink()
    assert not noted(files, Cache(), [held])


@pytest.mark.parametrize("damage", ["truncated", "edited", "foreign"])
def test_a_damaged_or_foreign_note_is_ignored(
    tmp_path: Path, files: tuple[Path, Path], damage: str
) -> None:
    held = keys(NOTE_MIN)
    write_render(tmp_path, files[0], held, "project")
    note(tmp_path, files, "other" if damage == "foreign" else "project", [held], FIRST)
    path = files[0].with_name(files[0].name + HELD)
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        path.write_bytes(bytes(data[:-5]))
    elif damage == "edited":
        data[-20] ^= 1
        path.write_bytes(bytes(data))
    assert not noted(files, Cache(), [held])


def test_a_few_keys_are_not_noted(tmp_path: Path, files: tuple[Path, Path]) -> None:
    held = keys(NOTE_MIN - 1)
    write_render(tmp_path, files[0], held, "project")
    note(tmp_path, files, "project", [held], FIRST)
    assert not files[0].with_name(files[0].name + HELD).exists()


def hand_note(tmp_path: Path, files: tuple[Path, Path], held: list[bytes], after: int) -> None:
    """A note as `note` writes it, but made `after` ns after the files' last change."""
    st = os.lstat(files[0])
    stats = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, -1, -1, -1, -1, -1]
    count, total = render_held.key_sum([held])
    table = CacheTable()
    table.record(hashlib.sha256(b"render cache held").digest())
    for value in stats:
        table.number(value)
    table.text(total)
    table.text("a digest")
    table.number(len(held))
    table.number(max(st.st_mtime_ns, st.st_ctime_ns) + after)
    table.number(count)
    table.ints.frombytes(b"".join(sorted(held)))
    note_path = files[0].with_name(files[0].name + HELD)
    write_cache(note_path, tmp_path, render_held.KIND, "project", table)


def test_a_note_made_in_the_tick_of_its_files_change_vouches_for_nothing(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    held = keys(NOTE_MIN)
    write_render(tmp_path, files[0], held, "project")
    hand_note(tmp_path, files, held, SETTLE_NS)
    assert noted(files, Cache(), [held])  # the hand-made note is one
    hand_note(tmp_path, files, held, SETTLE_NS // 4)
    assert not noted(files, Cache(), [held])


def test_holds_reads_the_keys_of_the_file_and_its_delta(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    first, more = keys(50), keys(5, "new")
    write_render(tmp_path, files[0], first, "project")
    assert holds(files, KIND, Cache(), [first[:10], first[10:]])
    assert not holds(files, KIND, Cache(), [first, more])
    reader = read_cache(files[0], KIND, "project")
    assert reader is not None
    write_render(tmp_path, files[1], more, Cache().over(reader.digest))
    assert holds(files, KIND, Cache(), [first, more])
    write_render(tmp_path, files[1], more, Cache().over("another digest"))
    assert not holds(files, KIND, Cache(), [first, more])  # a delta over another file


def book(root: Path, files: int) -> Path:
    """A project of `files` Markdown files of 100 paragraphs each, for an ICE target."""
    (root / "texts").mkdir(parents=True)
    (root / "templates").mkdir()
    for f in range(files):
        paragraphs = [f"Paragraph {p} of file {f} is spoken once." for p in range(100)]
        path = root / f"texts/b{f:03d}.md"
        path.write_text("\n\n".join(paragraphs) + "\n")
        then = path.stat().st_mtime_ns - 10**10  # not racily clean (source_cache.py)
        os.utime(path, ns=(then, then))
    (root / "templates/para.ssml.j2").write_text("<speak>{{ text }}</speak>\n")
    (root / "voxform.yaml").write_text(
        "version: 1\nname: held\ntargets:\n"
        "  out: {provider: ice, region: cn-shanghai, bucket: held-bucket, prefix: p/}\n"
        "voices:\n  narrator: {voice: siqi}\n"
        "defaults: {voice: narrator, format: mp3, template: para, target: out}\n"
        "templates:\n  para: templates/para.ssml.j2\n"
        "sources:\n  - id: books\n    glob: texts/*.md\n    split: paragraph\n"
    )
    return root


def planned_book(tmp_path: Path, voxform: Runner) -> Path:
    """A book of NOTE_MIN items planned twice: the second plan notes what the files hold."""
    root = book(tmp_path / "book", NOTE_MIN // 100)
    for _ in range(2):
        assert voxform(root, "plan", "--json").exit_code == 0
    return root


def test_a_plan_under_a_note_is_the_plan_and_damage_under_it_is_rebuilt(
    tmp_path: Path, voxform: Runner
) -> None:
    root = book(tmp_path / "book", NOTE_MIN // 100)
    first = voxform(root, "plan", "--json")
    assert first.exit_code == 0, first.output
    path = root / ".voxform" / RENDER_CACHE
    afresh = path.read_bytes()
    for _ in range(2):  # the second plan notes that the files hold its told results
        assert voxform(root, "plan", "--json").output == first.output
    assert (root / ".voxform" / (RENDER_CACHE + HELD)).exists()
    assert path.read_bytes() == afresh

    data = bytearray(afresh)
    data[-3] ^= 1  # a byte of its last record, in place
    path.write_bytes(bytes(data))
    assert voxform(root, "plan", "--json").output == first.output
    assert path.read_bytes() == afresh  # rebuilt, though a note was there
    assert voxform(root, "plan", "--json").output == first.output


def test_a_note_planted_as_a_link_is_not_written_through(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    held = keys(NOTE_MIN)
    write_render(tmp_path, files[0], held, "project")
    victim = tmp_path.parent / f"{tmp_path.name}-victim"
    victim.write_bytes(b"outside")
    planted = files[0].with_name(files[0].name + HELD)
    planted.symlink_to(victim)
    note(tmp_path, files, "project", [held], FIRST)
    assert victim.read_bytes() == b"outside"
    assert not noted(files, Cache(), [held])  # nor read through


def edit(root: Path, number: int) -> None:
    path = root / f"texts/b{number:03d}.md"
    path.write_text(path.read_text().replace("Paragraph 50 ", f"Edited paragraph 50 ({number}) "))


def held_keys(root: Path) -> set[bytes]:
    """The keys the render cache's files hold, both checked whole."""
    path = root / ".voxform" / RENDER_CACHE
    identity = project_identity(load_project(root).project)
    first = read_cache(path, KIND, identity)
    assert first is not None
    delta = read_cache(path.with_name(path.name + DELTA), KIND, f"{identity} over {first.digest}")
    return set(first.records) | (set(delta.records) if delta is not None else set())


def test_an_edit_under_a_note_adds_a_delta_that_holds_every_result(
    tmp_path: Path, voxform: Runner
) -> None:
    root = planned_book(tmp_path, voxform)
    path = root / ".voxform" / RENDER_CACHE
    afresh = path.read_bytes()
    for number in (3, 7):
        edit(root, number)
        planned = voxform(root, "plan", "--json").output
        bare = tmp_path / f"bare{number}"
        shutil.copytree(root, bare, ignore=shutil.ignore_patterns(".voxform"))
        assert planned == voxform(bare, "plan", "--json").output  # as with no caches
        assert path.read_bytes() == afresh  # the first file neither read nor written
        loaded = load_project(root)
        memo = RenderCache(path, loaded.project, {}, identity=project_identity(loaded.project))
        wanted = {memo.key(r.item) for r in loaded.rendered}
        assert None not in wanted and wanted <= held_keys(root)  # each edit's record kept


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


KINDS = {
    "insert": lambda r: replace_in(
        r / "texts/b004.md", "\n\nParagraph 9 ", "\n\nA new one.\n\nParagraph 9 "
    ),
    "delete": lambda r: replace_in(
        r / "texts/b004.md", "Paragraph 9 of file 4 is spoken once.\n\n", ""
    ),
    "two files": lambda r: (edit(r, 3), edit(r, 8)),
    "template": lambda r: replace_in(r / "templates/para.ssml.j2", "{{ text }}", "{{ text }}!"),
    "voice": lambda r: replace_in(r / "voxform.yaml", "voice: siqi", "voice: xiaoyun"),
    "target": lambda r: replace_in(r / "voxform.yaml", "prefix: p/", "prefix: q/"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_edit_under_a_note_plans_as_without_caches(
    tmp_path: Path, voxform: Runner, kind: str
) -> None:
    root = planned_book(tmp_path, voxform)
    KINDS[kind](root)
    bare = tmp_path / "bare"
    shutil.copytree(root, bare, ignore=shutil.ignore_patterns(".voxform"))
    expected = voxform(bare, "plan", "--json").output
    for _ in range(2):  # the edit's, then the next plan's (under the note made after it)
        assert voxform(root, "plan", "--json").output == expected
    loaded = load_project(root)
    path = root / ".voxform" / RENDER_CACHE
    memo = RenderCache(path, loaded.project, {}, identity=project_identity(loaded.project))
    wanted = {memo.key(r.item) for r in loaded.rendered}
    assert None not in wanted and wanted <= held_keys(root)


OPENED: list[str] | None = None  # the paths opened while a test listens (audit hook)


def _listen(event: str, args: tuple[object, ...]) -> None:
    if OPENED is not None and event == "open" and isinstance(args[0], (str, Path)):
        OPENED.append(str(args[0]))


sys.addaudithook(_listen)


def test_an_edit_under_a_note_reads_no_first_file(tmp_path: Path, voxform: Runner) -> None:
    global OPENED
    root = planned_book(tmp_path, voxform)
    edit(root, 5)
    path = root / ".voxform" / RENDER_CACHE
    OPENED = []
    try:
        load_project(root)  # its caches written as it returns
        opened = OPENED
    finally:
        OPENED = None
    assert str(path.with_name(path.name + DELTA)) in opened  # looked for, and written
    assert str(path) not in opened
    OPENED = []
    try:
        load_project(root)  # nothing new: nothing read
        opened = OPENED
    finally:
        OPENED = None
    assert not any(name.startswith(str(path)) and not name.endswith(HELD) for name in opened)


def forked_writers(root: Path) -> int:
    """How many cache writers a load of `root` forks, in a process of its own (where no
    other thread runs: aside.py forks only then)."""
    script = (
        "import sys\nfrom pathlib import Path\nfrom voxform import aside\n"
        "from voxform.project import load_project\n"
        "load_project(Path(sys.argv[1]), caches_aside=True)\n"
        "print(len(aside._pending))\naside.wait()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def test_a_second_load_or_an_edit_forks_no_writer_and_a_new_template_does(
    tmp_path: Path, voxform: Runner
) -> None:
    root = planned_book(tmp_path, voxform)
    assert forked_writers(root) == 0  # nothing to write
    edit(root, 2)
    assert forked_writers(root) == 0  # one result new: written in the command itself
    assert (root / ".voxform" / (RENDER_CACHE + DELTA)).exists()  # written, not skipped
    KINDS["template"](root)
    assert forked_writers(root) > 0  # every result new: written beside the command
