"""Removed items are planned as `delete` and pruned with care; superseded files go too."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner

JOINS = "texts/chapters/02-joins.md"


def lock_of(root: Path) -> dict:
    return json.loads((root / "voxform.lock").read_text())["items"]


def outputs(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in (root / "build").rglob("*") if p.is_file()}


def test_deleting_a_paragraph_plans_one_delete_and_prune_removes_its_files(
    quickstart: Path, voxform: Runner
) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    before = lock_of(quickstart)["chapters/02-joins/p3"]
    files = {before["url"], *before["subtitles"].values()}
    assert files <= outputs(quickstart)
    joins = quickstart / JOINS
    joins.write_text(joins.read_text().replace("\nMost of the time you want an inner join.\n", ""))

    plan = json.loads(voxform(quickstart, "plan", "--json").stdout)
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
    assert voxform(quickstart, "plan", "--detailed-exitcode").exit_code == 2

    kept = voxform(quickstart, "apply", "--yes")  # without --prune nothing is deleted
    assert kept.exit_code == 0 and "1 to delete (with apply --prune)" in kept.output
    assert files <= outputs(quickstart)

    pruned = voxform(quickstart, "apply", "--prune", "--yes")
    assert pruned.exit_code == 0, pruned.output
    assert "Pruned 1 item(s)" in pruned.output
    assert not files & outputs(quickstart)
    assert "chapters/02-joins/p3" not in lock_of(quickstart)
    assert len(lock_of(quickstart)) == 9
    assert voxform(quickstart, "plan", "--detailed-exitcode").exit_code == 0


def test_pruning_when_the_manifests_name_no_items_is_refused(
    quickstart: Path, voxform: Runner
) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    manifest = quickstart / "voxform.yaml"
    text = manifest.read_text()
    manifest.write_text(text[: text.index("items:")] + "items: []\n")
    before = outputs(quickstart)
    result = voxform(quickstart, "apply", "--prune", "--yes", "--max-delete", "100%")
    assert result.exit_code == 1
    assert "the manifests name no items at all" in result.output
    assert outputs(quickstart) == before
    assert len(lock_of(quickstart)) == 10


def test_pruning_more_than_max_delete_is_refused(quickstart: Path, voxform: Runner) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    (quickstart / JOINS).unlink()  # three paragraphs go
    refused = voxform(quickstart, "apply", "--prune", "--yes", "--max-delete", "2")
    assert refused.exit_code == 1
    assert "refusing to prune 3 of 10 recorded items" in refused.output
    assert len(lock_of(quickstart)) == 10
    allowed = voxform(quickstart, "apply", "--prune", "--yes", "--max-delete", "30%")
    assert allowed.exit_code == 0, allowed.output
    assert len(lock_of(quickstart)) == 7


def test_a_format_change_leaves_no_stale_file(quickstart: Path, voxform: Runner) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    manifest = quickstart / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("format: mp3", "format: wav"))
    result = voxform(quickstart, "apply", "--yes")
    assert result.exit_code == 0, result.output
    audio = [name for name in outputs(quickstart) if not name.endswith((".vtt", ".srt"))]
    assert audio and all(name.endswith(".wav") for name in audio)
    recorded = {entry["url"] for entry in lock_of(quickstart).values()}
    assert set(audio) == recorded
