"""Deletes from evidence, not from the lockfile alone.

voxform deletes a file (a removed item's with --prune, or one an update leaves behind) only
when it lies in its target's own output folders, has an output suffix, is no other item's,
and still has the sha256 and size the lockfile recorded. The plan lists each file it will
delete; everything else is kept, and said why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner

JOINS = "texts/chapters/02-joins.md"
P3 = "chapters/02-joins/p3"
P3_FILES = [f"build/audio/{P3}.{ext}" for ext in ("mp3", "srt", "vtt")]
FINGERPRINT = "sha256:" + "0" * 64


def lock_of(root: Path) -> dict[str, dict]:
    return json.loads((root / "voxform.lock").read_text())["items"]


def write_lock(root: Path, items: dict[str, dict]) -> None:
    document = {"items": items, "lockfile_version": 1}
    (root / "voxform.lock").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def recorded(root: Path, *names: str) -> dict[str, dict[str, object]]:
    """`outputs` as the lockfile would record these files now: their true digests."""
    files = {name: (root / name).read_bytes() for name in names}
    return {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in files.items()}


def project_files(root: Path) -> dict[str, bytes]:
    """Every file that is not an output of voxform nor its state: what must never go."""
    ours = ("build", "subtitles", ".voxform", "voxform.lock")
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in ours
    }


def plant(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def as_wav(root: Path, item_line: str = "title: Welcome\n") -> None:
    """Change the welcome item's format: its mp3 and only that is superseded."""
    manifest = root / "voxform.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace(item_line, item_line + "    format: wav\n"))


def drop_p3(root: Path) -> None:
    joins = root / JOINS
    joins.write_text(joins.read_text().replace("\nMost of the time you want an inner join.\n", ""))


# -- the cases of the issue --------------------------------------------------------------------


def test_a_url_edited_to_name_another_file_keeps_it_and_the_real_old_audio_goes(
    applied_quickstart: Path, voxform: Runner
) -> None:
    plant(applied_quickstart, {"assets/jingle.mp3": b"ID3 the jingle"})
    items = lock_of(applied_quickstart)
    items["welcome"]["url"] = "assets/jingle.mp3"
    write_lock(applied_quickstart, items)
    as_wav(applied_quickstart)

    change = json.loads(voxform(applied_quickstart, "plan", "--json").stdout)["changes"][0]
    assert change["id"] == "welcome" and change["deletes"] == ["build/audio/welcome.mp3"]
    assert [k["file"] for k in change["kept"]] == ["assets/jingle.mp3"]
    assert "outside its target's output folders (build/audio)" in change["kept"][0]["reason"]

    result = voxform(applied_quickstart, "apply", "--yes")  # no --prune: an update's old files
    assert result.exit_code == 0, result.output
    assert (applied_quickstart / "assets/jingle.mp3").read_bytes() == b"ID3 the jingle"
    assert not (applied_quickstart / "build/audio/welcome.mp3").exists()
    assert (applied_quickstart / "build/audio/welcome.wav").is_file()
    assert "keeps assets/jingle.mp3: outside its target's output folders" in result.output


def test_a_hand_added_entry_naming_project_files_has_none_of_them_pruned(
    applied_quickstart: Path, voxform: Runner
) -> None:
    plant(applied_quickstart, {"docs/talk.srt": b"1\n00:00:00,000 --> 00:00:01,000\nhi\n"})
    plant(applied_quickstart, {"texts/notes.vtt": b"WEBVTT\n"})
    items = lock_of(applied_quickstart)
    items["gone"] = {  # with the files' true digests: only the folders tell them apart
        "state": "finished",
        "fingerprint": FINGERPRINT,
        "characters": 1,
        "subtitles": {"srt": "docs/talk.srt", "vtt": "texts/notes.vtt"},
        "outputs": recorded(applied_quickstart, "docs/talk.srt", "texts/notes.vtt"),
    }
    write_lock(applied_quickstart, items)
    before = project_files(applied_quickstart)

    plan = voxform(applied_quickstart, "plan")
    assert "deletes" not in plan.output
    assert "keeps docs/talk.srt: outside its target's output folders" in plan.output
    assert "keeps texts/notes.vtt: outside its target's output folders" in plan.output

    result = voxform(applied_quickstart, "apply", "--yes", "--prune")
    assert result.exit_code == 0, result.output
    assert project_files(applied_quickstart) == before
    assert "gone" not in lock_of(applied_quickstart)  # voxform would never delete them: forgotten


def test_prune_keeps_an_audio_file_whose_bytes_changed_and_the_lockfile_still_names_it(
    applied_quickstart: Path, voxform: Runner
) -> None:
    audio = applied_quickstart / P3_FILES[0]
    audio.write_bytes(b"my own recording, not voxform's")
    drop_p3(applied_quickstart)

    printed = json.loads(voxform(applied_quickstart, "plan", "--json").stdout)
    plan = printed["changes"][0]
    assert plan["deletes"] == P3_FILES[1:]
    assert plan["kept"] == [
        {"file": P3_FILES[0], "reason": "changed since voxform wrote it (not the bytes recorded)"}
    ]
    counted = printed["summary"]
    assert [counted[k] for k in ("files_to_prune", "files_to_delete", "files_kept")] == [2, 0, 1]

    result = voxform(applied_quickstart, "apply", "--yes", "--prune")
    assert result.exit_code == 1, result.output  # the prune is not done: the item stays
    assert "keeps build/audio/chapters/02-joins/p3.mp3: changed since voxform wrote it" in (
        result.output
    )
    assert audio.read_bytes() == b"my own recording, not voxform's"
    assert not any((applied_quickstart / name).exists() for name in P3_FILES[1:])
    left = lock_of(applied_quickstart)[P3]  # naming only the file that may yet go
    assert left["url"] == P3_FILES[0] and list(left["outputs"]) == [P3_FILES[0]]
    assert "subtitles" not in left

    audio.unlink()  # the user settles it: nothing is left to delete
    settled = voxform(applied_quickstart, "apply", "--yes", "--prune")
    assert settled.exit_code == 0, settled.output
    assert P3 not in lock_of(applied_quickstart)


def test_prune_never_deletes_another_items_file_that_a_hand_added_entry_names(
    applied_quickstart: Path, voxform: Runner
) -> None:
    welcome = applied_quickstart / "build/audio/welcome.mp3"
    audio = welcome.read_bytes()
    items = lock_of(applied_quickstart)
    items["gone"] = {
        "state": "finished",
        "fingerprint": FINGERPRINT,
        "characters": 1,
        "url": "build/audio/welcome.mp3",
        "outputs": recorded(applied_quickstart, "build/audio/welcome.mp3"),
    }
    write_lock(applied_quickstart, items)
    result = voxform(applied_quickstart, "apply", "--yes", "--prune")
    assert result.exit_code == 0, result.output
    assert "keeps build/audio/welcome.mp3: another item records or writes it" in result.output
    assert welcome.read_bytes() == audio
    assert voxform(applied_quickstart, "plan", "--detailed-exitcode").exit_code == 0


# -- the plan shows every file before apply --------------------------------------------------


def test_the_plan_lists_every_file_apply_will_delete(
    applied_quickstart: Path, voxform: Runner
) -> None:
    drop_p3(applied_quickstart)
    as_wav(applied_quickstart)
    text = voxform(applied_quickstart, "plan")
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    deleted = [line.split("deletes ", 1)[1] for line in lines if "- deletes " in line]
    assert deleted == ["build/audio/welcome.mp3", *P3_FILES]
    assert "1 file(s) to delete, 3 file(s) to delete with --prune." in lines[-1]

    summary = json.loads(voxform(applied_quickstart, "plan", "--json").stdout)["summary"]
    assert (summary["files_to_delete"], summary["files_to_prune"]) == (1, 3)
    assert summary["files_kept"] == 0

    before = {
        p.relative_to(applied_quickstart).as_posix()
        for p in applied_quickstart.rglob("*")
        if p.is_file()
    }
    result = json.loads(voxform(applied_quickstart, "apply", "--yes", "--prune", "--json").stdout)
    after = {
        p.relative_to(applied_quickstart).as_posix()
        for p in applied_quickstart.rglob("*")
        if p.is_file()
    }
    assert sorted(result["deleted"]) == sorted(["build/audio/welcome.mp3", *P3_FILES])
    assert before - after == set(result["deleted"])
    assert result["pruned"] == [P3] and result["kept"] == [] and result["unpruned"] == []


# -- acceptance 3: a lockfile that names project files ----------------------------------------


COMMANDS = [
    ("validate",),
    ("plan",),
    ("plan", "--json"),
    ("status",),
    ("refresh",),
    ("apply", "--yes"),
    ("apply", "--yes", "--prune"),
    ("apply", "--yes", "--prune", "--max-delete", "100%"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_no_command_deletes_a_project_file_that_an_edited_lockfile_names(
    applied_quickstart: Path, voxform: Runner, command: tuple[str, ...]
) -> None:
    plant(applied_quickstart, {"assets/jingle.mp3": b"ID3 jingle", "docs/talk.srt": b"1\n"})
    names = [
        "voxform.yaml",
        "templates/plain.ssml.j2",
        "texts/lesson-01.md",
        "assets/jingle.mp3",
        "docs/talk.srt",
    ]
    items = lock_of(applied_quickstart)
    # a live item's record bent to name them (digests true), and an entry no manifest has
    welcome = items["welcome"]
    welcome["url"] = "assets/jingle.mp3"
    welcome["subtitles"] = {"srt": "docs/talk.srt", "vtt": "texts/lesson-01.md"}
    welcome["outputs"] = {**welcome["outputs"], **recorded(applied_quickstart, *names)}
    items["gone"] = {
        "state": "finished",
        "fingerprint": FINGERPRINT,
        "characters": 1,
        "url": "templates/plain.ssml.j2",
        "subtitles": {"srt": "docs/talk.srt", "vtt": "voxform.yaml"},
        "outputs": recorded(applied_quickstart, *names),
    }
    write_lock(applied_quickstart, items)
    as_wav(applied_quickstart)  # welcome is updated: its recorded files are superseded
    drop_p3(applied_quickstart)  # and a real item goes, so that --prune has work
    before = project_files(applied_quickstart)

    result = voxform(applied_quickstart, *command)
    assert "Traceback" not in result.output
    assert project_files(applied_quickstart) == before
    if command[0] == "apply":
        assert result.exit_code == 0, result.output
        assert not (applied_quickstart / "build/audio/welcome.mp3").exists()  # its real old audio
        pruned = "--prune" in command
        assert all((applied_quickstart / name).exists() != pruned for name in P3_FILES)


# -- --max-delete is checked as it is read ----------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "", "10%%", "%"])
@pytest.mark.parametrize("prune", [(), ("--prune",)], ids=["without-prune", "with-prune"])
def test_a_malformed_max_delete_is_an_error_even_when_nothing_is_deleted(
    applied_quickstart: Path, voxform: Runner, value: str, prune: tuple[str, ...]
) -> None:
    result = voxform(applied_quickstart, "apply", "--yes", *prune, "--max-delete", value)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--max-delete'" in result.output
    assert "give a count (20) or a share (25%)" in result.output
    assert "Traceback" not in result.output


# -- an ICE target: its subtitles are its only files in the project -----------------------------


def test_ice_prune_deletes_the_subtitles_it_wrote_and_keeps_one_changed_since(
    emulator: Callable[..., tuple[str, Path]],
    ice_project: Path,
    voxform: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, storage = emulator("--latency", "0.05")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    assert voxform(ice_project, "apply", "--yes").exit_code == 0
    tip = lock_of(ice_project)["tip"]
    assert (storage / "my-audio/course/intro/tip.mp3").is_file()
    vtt, srt = tip["subtitles"]["vtt"], tip["subtitles"]["srt"]
    assert vtt.startswith("subtitles/oss/")
    (ice_project / srt).write_text("1\n00:00:00,000 --> 00:00:01,000\nedited by hand\n")
    manifest = ice_project / "voxform.yaml"
    text = manifest.read_text()
    start = text.index("  - id: tip")
    manifest.write_text(text[:start] + text[text.index("\nsources:", start) + 1 :])

    result = voxform(ice_project, "apply", "--yes", "--prune")
    assert result.exit_code == 1, result.output
    assert f"keeps {srt}: changed since voxform wrote it" in result.output
    # its object is deleted too, as recorded: no longer named for the user to remove
    assert "deletes oss://my-audio/course/intro/tip.mp3" in result.output
    assert "to remove by hand" not in result.output
    assert not (storage / "my-audio/course/intro/tip.mp3").exists()
    assert (storage / "my-audio/course/intro/welcome.mp3").is_file()
    assert not (ice_project / vtt).exists()
    assert "edited by hand" in (ice_project / srt).read_text()
    left = lock_of(ice_project)["tip"]
    assert left["subtitles"] == {"srt": srt} and "url" not in left
