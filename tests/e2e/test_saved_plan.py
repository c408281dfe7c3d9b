"""A reviewed plan, saved with `plan --out`, applies exactly its items, and only once."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner


def lock_of(root: Path) -> dict:
    return json.loads((root / "voxform.lock").read_text())["items"]


def test_a_saved_plan_applies_exactly_its_items(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    planfile = tmp_path / "reviewed.plan"
    made = voxform(quickstart, "plan", "--select", "chapters/*", "--out", str(planfile))
    assert made.exit_code == 0, made.output
    saved = json.loads(planfile.read_text())
    assert saved["kind"] == "voxform-plan" and saved["summary"]["create"] == 7
    applied = voxform(quickstart, "apply", str(planfile))  # no --yes: a saved plan was reviewed
    assert applied.exit_code == 0, applied.output
    assert sorted(lock_of(quickstart)) == sorted(c["id"] for c in saved["changes"])
    left = json.loads(voxform(quickstart, "plan", "--json").stdout)
    assert left["summary"]["create"] == 3


def test_a_saved_plan_is_refused_once_the_lockfile_has_moved_on(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    planfile = tmp_path / "reviewed.plan"
    assert voxform(quickstart, "plan", "--out", str(planfile)).exit_code == 0
    assert voxform(quickstart, "apply", "--yes", "--select", "welcome").exit_code == 0
    before = (quickstart / "voxform.lock").read_bytes()
    refused = voxform(quickstart, "apply", str(planfile))
    assert refused.exit_code == 1
    assert "voxform.lock has moved on" in refused.output
    assert (quickstart / "voxform.lock").read_bytes() == before


def test_a_plan_made_against_an_empty_lockfile_applies_once_only(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    planfile = tmp_path / "first.plan"
    assert voxform(quickstart, "plan", "--out", str(planfile)).exit_code == 0
    assert voxform(quickstart, "apply", str(planfile)).exit_code == 0
    again = voxform(quickstart, "apply", str(planfile))
    assert again.exit_code == 1 and "has moved on" in again.output


def test_a_saved_plan_is_refused_when_a_text_changed_since(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    planfile = tmp_path / "reviewed.plan"
    assert voxform(quickstart, "plan", "--out", str(planfile)).exit_code == 0
    lesson = quickstart / "texts" / "lesson-01.md"
    lesson.write_text(lesson.read_text() + "\nOne more paragraph, added after review.\n")
    refused = voxform(quickstart, "apply", str(planfile), "--json")
    assert refused.exit_code == 1
    assert any("changed since" in e["message"] for e in json.loads(refused.stdout)["errors"])
    assert not (quickstart / "voxform.lock").exists()


def test_a_file_that_is_not_a_plan_is_refused_by_name(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.plan"
    bogus.write_text('{"kind": "something else"}')
    refused = voxform(quickstart, "apply", str(bogus))
    assert refused.exit_code == 1
    assert f"{bogus}: not a saved voxform plan" in refused.output


def test_hostile_plan_files_are_refused_in_one_sentence(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    bogus = tmp_path / "bogus.plan"
    for data, reason in [
        (b"[" * 100_000, "is nested too deeply to read"),
        (b'{"kind": "\xff"}', "is not UTF-8 text"),
        (b"[1]", "not a JSON object"),
        (b'{"kind": "voxform-plan", "format_version": 1, "inputs": ' + b"9" * 5000 + b"}", ""),
    ]:
        bogus.write_bytes(data)
        refused = voxform(quickstart, "apply", str(bogus))
        assert refused.exit_code == 1
        assert "Traceback" not in refused.output
        assert "not a saved voxform plan" in refused.output and reason in refused.output


def test_a_hostile_stat_cache_is_only_a_slower_plan(quickstart: Path, voxform: Runner) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    cache = quickstart / ".voxform/stat-cache.json"
    for data in (b"[" * 100_000, b"\xff", b'{"x": [1, 2]}', b'{"x": "y"}', b"9" * 5000):
        cache.write_bytes(data)
        result = voxform(quickstart, "plan", "--detailed-exitcode")
        assert result.exit_code == 0, result.output
