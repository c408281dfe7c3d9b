"""No writes outside outputs: symlinks, hostile ids and file names, read-only files, crashes.

Every refusal exits 1 with one sentence naming the path and leaves each file as it was.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Runner
from voxform.files import temporary_name, write_atomic
from voxform.state.journal import Journal
from voxform.state.lease import LEASE, lease


def snapshot(root: Path) -> dict[str, str | bytes]:
    """Every file under `root` by relative path: its bytes, or where a symlink points."""
    files: dict[str, str | bytes] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            files[name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            files[name] = path.read_bytes()
    return files


def lock_items(root: Path) -> dict[str, dict]:
    return json.loads((root / "voxform.lock").read_text())["items"]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def add_item(root: Path, entry: str) -> int:
    """Append an item to the quickstart's manifest; the line its id is on."""
    manifest = root / "voxform.yaml"
    text = manifest.read_text()
    head, tail = text.split("\nsources:", 1)
    manifest.write_text(f"{head}  {entry}\n\nsources:{tail}")
    return head.count("\n") + 1


# -- symlinks where outputs go ------------------------------------------------------------------


def test_an_audio_file_symlinked_to_a_template_is_not_written_through(
    quickstart: Path, voxform: Runner
) -> None:
    (quickstart / "build/audio").mkdir(parents=True)
    link = quickstart / "build/audio/welcome.mp3"
    link.symlink_to("../../templates/plain.ssml.j2")
    before = snapshot(quickstart)
    result = voxform(quickstart, "apply", "--yes")
    assert result.exit_code == 1
    assert "build/audio/welcome.mp3 is a symlink" in result.output
    assert snapshot(quickstart / "templates") == {
        k.removeprefix("templates/"): v for k, v in before.items() if k.startswith("templates/")
    }
    assert os.readlink(link) == "../../templates/plain.ssml.j2"
    assert lock_items(quickstart)["welcome"]["state"] == "failed"
    assert lock_items(quickstart)["lesson-01"]["state"] == "finished"  # the others go on


def test_a_subtitle_symlinked_to_the_manifest_is_not_written_nor_replaced(
    quickstart: Path, voxform: Runner
) -> None:
    (quickstart / "build/audio").mkdir(parents=True)
    link = quickstart / "build/audio/welcome.vtt"
    link.symlink_to("../../voxform.yaml")
    manifest = (quickstart / "voxform.yaml").read_bytes()
    result = voxform(quickstart, "apply", "--yes")
    assert result.exit_code == 1
    assert "build/audio/welcome.vtt is a symlink" in result.output
    assert (quickstart / "voxform.yaml").read_bytes() == manifest
    assert os.readlink(link) == "../../voxform.yaml"
    assert not (quickstart / "build/audio/welcome.mp3").exists()  # nothing of the item


def test_a_target_directory_symlinked_into_the_project_is_refused(
    quickstart: Path, voxform: Runner
) -> None:
    (quickstart / "build").mkdir()
    (quickstart / "build/audio").symlink_to("../templates", target_is_directory=True)
    before = snapshot(quickstart)
    result = voxform(quickstart, "apply", "--yes")
    assert result.exit_code == 1
    assert "build/audio is a symlink" in result.output
    assert " ".join(result.output.split()).count(".") <= 3  # one sentence (and file names)
    after = snapshot(quickstart)
    for cache in (
        "render-cache",
        "source-cache",
        "block-cache",
        "template-includes",
        "schema-seen.json",
    ):
        after.pop(f".voxform/{cache}", None)  # what validating it learnt, for the next command
    assert after == before  # the run stopped before any output or state was written


def test_a_target_directory_symlinked_out_of_the_project_is_refused(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (quickstart / "build").symlink_to(elsewhere, target_is_directory=True)
    result = voxform(quickstart, "apply", "--yes")
    assert result.exit_code == 1
    assert "build/audio" in result.output
    assert list(elsewhere.iterdir()) == []
    assert not (quickstart / "voxform.lock").exists()


def test_a_symlinked_state_directory_is_refused(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "state"
    elsewhere.mkdir()
    (quickstart / ".voxform").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(quickstart)
    for command in (["apply", "--yes"], ["refresh"], ["unlock", "0a1b2c3d4e5f"]):
        result = voxform(quickstart, *command)
        assert result.exit_code == 1, command
        assert ".voxform is a symlink" in result.output, command
    assert list(elsewhere.iterdir()) == []
    assert snapshot(quickstart) == before


# -- ids and file names -----------------------------------------------------------------------


def test_an_id_with_dot_dot_parts_is_invalid_and_nothing_is_written(
    quickstart: Path, voxform: Runner
) -> None:
    line = add_item(quickstart, "- {id: x/../../../escape, text: Out we go.}")
    result = voxform(quickstart, "validate")
    assert result.exit_code == 1
    assert f"voxform.yaml:{line}:10:" in result.output
    assert "'x/../../../escape' is not a" in result.output
    assert voxform(quickstart, "apply", "--yes").exit_code == 1
    assert not list(quickstart.parent.rglob("escape.*"))


def test_source_files_named_with_dots_or_other_scripts_get_distinct_safe_ids(
    quickstart: Path, voxform: Runner
) -> None:
    chapters = quickstart / "texts/chapters"
    top = {p.name for p in quickstart.iterdir()}
    for name in ("...md", "日本語.md", "中文.md", "Données.md"):
        (chapters / name).write_text("Hello there.\n", "utf-8")
    result = voxform(quickstart, "plan", "--json")
    assert result.exit_code == 0, result.output
    ids = [c["id"] for c in json.loads(result.stdout)["changes"]]
    assert len(ids) == len(set(ids)) == 14
    assert {"chapters/donnees/p1", "chapters/5ec1f7e7/p1", "chapters/77710aed/p1"} <= set(ids)
    assert all("//" not in i and "/." not in i for i in ids)
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    assert (quickstart / "build/audio/chapters/77710aed/p1.mp3").is_file()
    assert {p.name for p in quickstart.iterdir()} == top | {"voxform.lock", "build", ".voxform"}


def test_file_stems_that_make_one_id_are_reported_not_merged(
    quickstart: Path, voxform: Runner
) -> None:
    (quickstart / "texts/chapters/01-Basics.md").write_text("Other words.\n", "utf-8")
    result = voxform(quickstart, "validate")
    assert result.exit_code == 1
    assert "texts/chapters/01-Basics.md and texts/chapters/01-basics.md" in result.output
    assert "voxform.yaml:" in result.output


def test_a_file_name_near_the_file_system_limit_still_applies(
    quickstart: Path, voxform: Runner
) -> None:
    (quickstart / "texts/chapters" / ("a" * 240 + ".md")).write_text("Long.\n", "utf-8")
    result = voxform(quickstart, "apply", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert all(len(name) <= 100 for i in lock_items(quickstart) for name in i.split("/"))


def test_any_name_the_file_system_takes_can_be_written_atomically(tmp_path: Path) -> None:
    name = "é" * 127  # 254 bytes: no room for a temporary name that repeats it
    write_atomic(tmp_path / name, b"audio")
    assert (tmp_path / name).read_bytes() == b"audio"
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_an_id_over_the_length_cap_is_invalid(quickstart: Path, voxform: Runner) -> None:
    line = add_item(quickstart, "- {id: " + "a" * 201 + ", text: Long.}")
    result = voxform(quickstart, "validate")
    assert result.exit_code == 1 and f"voxform.yaml:{line}:10:" in result.output


# -- the lockfile and files left by a crash -----------------------------------------------------


def test_a_read_only_lockfile_is_not_replaced(applied_quickstart: Path, voxform: Runner) -> None:
    lockfile = applied_quickstart / "voxform.lock"
    lockfile.chmod(0o444)
    before = lockfile.read_bytes()
    manifest = applied_quickstart / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("Welcome to the course.", "Welcome!"))
    audio = applied_quickstart / "build/audio/welcome.mp3"
    audio_before = audio.read_bytes()
    result = voxform(applied_quickstart, "apply", "--yes")
    assert result.exit_code == 1
    assert "voxform.lock is read-only" in result.output
    assert "nothing was submitted" in result.output  # refused before, not at the end
    assert audio.read_bytes() == audio_before
    assert not (applied_quickstart / ".voxform/voxform.lock.journal").read_bytes()
    assert lockfile.read_bytes() == before
    assert stat.S_IMODE(lockfile.stat().st_mode) == 0o444


def test_temporary_files_left_by_a_killed_run_are_removed_by_the_next(
    quickstart: Path, voxform: Runner
) -> None:
    audio = quickstart / "build/audio"
    audio.mkdir(parents=True)
    # named by a writer that is gone, as a kill -9 leaves them; and by this live process
    names = "print(temporary_name('voxform.lock'), temporary_name('welcome.mp3'))"
    dead = subprocess.run(
        [sys.executable, "-c", f"from voxform.files import temporary_name; {names}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    stale = [quickstart / dead[0], audio / dead[1]]
    kept = [quickstart / temporary_name("voxform.lock"), quickstart / ".notes.12.0.tmp.bak"]
    for path in stale + kept:
        path.write_bytes(b"partial")
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in kept)


@pytest.fixture(params=[0o002, 0o077])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_every_file_voxform_creates_follows_the_umask(
    quickstart: Path, voxform: Runner, umask: int
) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    expected = 0o666 & ~umask
    made = [quickstart / "voxform.lock", *(quickstart / "build").rglob("*.*")]
    assert {".mp3", ".wav", ".vtt", ".srt"} <= {p.suffix for p in made}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in made} == {
        p.name: expected for p in made
    }
    with lease(quickstart):
        assert stat.S_IMODE((quickstart / LEASE).stat().st_mode) == expected
    journal = Journal(quickstart / "voxform.lock", quickstart / ".voxform/voxform.lock.journal")
    journal.open()
    journal.close(None)
    assert stat.S_IMODE(journal.path.stat().st_mode) == expected


# -- pruning and superseded files ---------------------------------------------------------------


def test_prune_never_deletes_through_a_symlinked_directory(
    applied_quickstart: Path, voxform: Runner
) -> None:
    joins = applied_quickstart / "build/audio/chapters/02-joins"
    keep = applied_quickstart / "keep"
    keep.mkdir()
    joins.rename(keep / "02-joins")
    joins.symlink_to("../../../keep/02-joins", target_is_directory=True)
    before = snapshot(keep)
    text = applied_quickstart / "texts/chapters/02-joins.md"
    text.write_text(text.read_text().replace("\nMost of the time you want an inner join.\n", ""))
    refused = voxform(applied_quickstart, "apply", "--yes", "--prune")
    assert refused.exit_code == 1
    assert "build/audio/chapters/02-joins is a symlink" in refused.output
    assert snapshot(keep) == before
    assert "chapters/02-joins/p3" in lock_items(applied_quickstart)  # not forgotten either


def test_prune_never_deletes_a_file_the_lockfile_names_outside_the_outputs(
    applied_quickstart: Path, voxform: Runner
) -> None:
    lockfile = applied_quickstart / "voxform.lock"
    document = json.loads(lockfile.read_text())
    fingerprint = "sha256:" + "0" * 64
    gone = {"state": "finished", "fingerprint": fingerprint, "characters": 1, "url": "voxform.yaml"}
    document["items"]["gone"] = gone
    lockfile.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    manifest = (applied_quickstart / "voxform.yaml").read_bytes()
    kept = voxform(applied_quickstart, "apply", "--yes", "--prune")
    assert kept.exit_code == 0, kept.output
    assert "keeps voxform.yaml: not an audio or subtitle file" in kept.output
    assert (applied_quickstart / "voxform.yaml").read_bytes() == manifest
    assert "gone" not in lock_items(applied_quickstart)  # never deletable, so nothing to remember


def test_a_superseded_file_behind_a_symlink_is_left_alone(
    applied_quickstart: Path, voxform: Runner
) -> None:
    old = applied_quickstart / "build/audio/welcome.mp3"
    old.unlink()
    old.symlink_to("../../templates/plain.ssml.j2")
    template = (applied_quickstart / "templates/plain.ssml.j2").read_bytes()
    manifest = applied_quickstart / "voxform.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("title: Welcome\n", "title: Welcome\n    format: wav\n"))
    result = voxform(applied_quickstart, "apply", "--yes")
    assert result.exit_code == 0, result.output
    assert (applied_quickstart / "build/audio/welcome.wav").is_file()
    assert os.readlink(old) == "../../templates/plain.ssml.j2"
    assert (applied_quickstart / "templates/plain.ssml.j2").read_bytes() == template
