"""Removed items are planned as `delete` and pruned with care; superseded files go too."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner
from voxform.state.journal import Journal

JOINS = "texts/chapters/02-joins.md"


def lock_of(root: Path) -> dict:
    return json.loads((root / "voxform.lock").read_text())["items"]


def outputs(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in (root / "build").rglob("*") if p.is_file()}


def test_deleting_a_paragraph_plans_one_delete_and_prune_removes_its_files(
    applied_quickstart: Path, voxform: Runner
) -> None:
    before = lock_of(applied_quickstart)["chapters/02-joins/p3"]
    files = {before["url"], *before["subtitles"].values()}
    assert files <= outputs(applied_quickstart)
    joins = applied_quickstart / JOINS
    joins.write_text(joins.read_text().replace("\nMost of the time you want an inner join.\n", ""))

    plan = json.loads(voxform(applied_quickstart, "plan", "--json").stdout)
    assert plan["changes"] == [
        {
            "id": "chapters/02-joins/p3",
            "action": "delete",
            "reasons": ["no longer in the manifests"],
            "characters": 0,
            "deletes": sorted(files),
        }
    ]
    assert plan["summary"]["delete"] == 1
    assert voxform(applied_quickstart, "plan", "--detailed-exitcode").exit_code == 2

    kept = voxform(applied_quickstart, "apply", "--yes")  # without --prune nothing is deleted
    assert kept.exit_code == 0 and "1 to delete (with apply --prune)" in kept.output
    assert files <= outputs(applied_quickstart)

    pruned = voxform(applied_quickstart, "apply", "--prune", "--yes")
    assert pruned.exit_code == 0, pruned.output
    assert "Pruned 1 item(s)" in pruned.output
    assert not files & outputs(applied_quickstart)
    assert "chapters/02-joins/p3" not in lock_of(applied_quickstart)
    assert len(lock_of(applied_quickstart)) == 9
    assert voxform(applied_quickstart, "plan", "--detailed-exitcode").exit_code == 0


def test_pruning_when_the_manifests_name_no_items_is_refused(
    applied_quickstart: Path, voxform: Runner
) -> None:
    manifest = applied_quickstart / "voxform.yaml"
    text = manifest.read_text()
    manifest.write_text(text[: text.index("items:")] + "items: []\n")
    before = outputs(applied_quickstart)
    result = voxform(applied_quickstart, "apply", "--prune", "--yes", "--max-delete", "100%")
    assert result.exit_code == 1
    assert "the manifests name no items at all" in result.output
    assert outputs(applied_quickstart) == before
    assert len(lock_of(applied_quickstart)) == 10


def test_pruning_more_than_max_delete_is_refused(applied_quickstart: Path, voxform: Runner) -> None:
    (applied_quickstart / JOINS).unlink()  # three paragraphs go
    refused = voxform(applied_quickstart, "apply", "--prune", "--yes", "--max-delete", "2")
    assert refused.exit_code == 1
    assert "refusing to prune 3 of 10 recorded items" in refused.output
    assert len(lock_of(applied_quickstart)) == 10
    allowed = voxform(applied_quickstart, "apply", "--prune", "--yes", "--max-delete", "30%")
    assert allowed.exit_code == 0, allowed.output
    assert len(lock_of(applied_quickstart)) == 7


def test_a_format_change_leaves_no_stale_file(applied_quickstart: Path, voxform: Runner) -> None:
    manifest = applied_quickstart / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("format: mp3", "format: wav"))
    result = voxform(applied_quickstart, "apply", "--yes")
    assert result.exit_code == 0, result.output
    audio = [name for name in outputs(applied_quickstart) if not name.endswith((".vtt", ".srt"))]
    assert audio and all(name.endswith(".wav") for name in audio)
    recorded = {entry["url"] for entry in lock_of(applied_quickstart).values()}
    assert set(audio) == recorded


def test_a_prune_killed_after_its_journal_is_written_into_the_lockfile_by_the_next_apply(
    applied_quickstart: Path, voxform: Runner
) -> None:
    """kill -9 after a prune journaled its removals, before voxform.lock was rewritten: the
    next apply has nothing left to do, and still writes the lockfile that gets committed."""
    joins = applied_quickstart / JOINS
    joins.write_text(joins.read_text().replace("\nMost of the time you want an inner join.\n", ""))
    for name in lock_of(applied_quickstart)["chapters/02-joins/p3"]["outputs"]:
        (applied_quickstart / name).unlink()
    lock = applied_quickstart / "voxform.lock"
    journal = Journal(lock, applied_quickstart / ".voxform" / "voxform.lock.journal")
    journal.open()
    journal.record("chapters/02-joins/p3", None)
    journal.flush()  # what the killed prune left: the journal, not the lockfile
    assert "chapters/02-joins/p3" in lock_of(applied_quickstart)

    assert voxform(applied_quickstart, "plan", "--detailed-exitcode").exit_code == 0
    done = voxform(applied_quickstart, "apply", "--yes")
    assert done.exit_code == 0, done.output
    assert "chapters/02-joins/p3" not in lock_of(applied_quickstart)
    assert len(lock_of(applied_quickstart)) == 9
    assert not (applied_quickstart / ".voxform" / "voxform.lock.journal").exists()
