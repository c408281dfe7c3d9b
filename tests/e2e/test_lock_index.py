"""The lockfile's index apply leaves in `.voxform/` (state/lockindex.py), against
`voxform emulator`: the plan after an apply reads it, and plans exactly what it plans
without it, drift in the bucket and in the project's files included."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner
from e2e.test_oss_drift import tamper
from voxform.state.lockfile import read_lockfile
from voxform.state.lockindex import IndexedEntry

INDEX = Path(".voxform/voxform.lock.index")


def plans(root: Path, voxform: Runner) -> tuple[str, str]:
    """`plan --json` with the index apply left, then without it (put back after)."""
    index = root / INDEX
    data = index.read_bytes()
    first = voxform(root, "plan", "--json")
    assert first.exit_code == 0, first.output
    index.unlink()
    second = voxform(root, "plan", "--json")
    assert second.exit_code == 0, second.output
    index.write_bytes(data)
    return first.stdout, second.stdout


def test_apply_leaves_an_index_the_next_plan_reads(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    lock = ice_project / "voxform.lock"
    state = read_lockfile(lock, index=ice_project / INDEX)
    assert state.items and {type(e) for e in state.items.values()} == {IndexedEntry}
    assert state.to_bytes() == lock.read_bytes()

    with_index, without = plans(ice_project, voxform)
    assert with_index == without
    assert json.loads(with_index)["changes"] == []


def test_drift_plans_the_same_with_the_index_and_without(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    """Objects deleted and overwritten in the bucket, a subtitle file edited and another
    deleted in the project: the same plan, byte for byte, with the index and without."""
    tamper(applied)
    recorded = json.loads((ice_project / "voxform.lock").read_text())["items"]
    # one file of each of two items whose objects are left as they are
    untouched = sorted(key for key in recorded if key not in ("welcome", "tip"))
    files = [
        min(name for name in recorded[key]["outputs"] if not name.startswith("oss://"))
        for key in untouched[:2]
    ]
    assert len(files) >= 2
    (ice_project / files[0]).write_text("WEBVTT\n\nedited by hand\n")
    (ice_project / files[-1]).unlink()

    with_index, without = plans(ice_project, voxform)
    assert with_index == without
    reasons = [r for c in json.loads(with_index)["changes"] for r in c["reasons"]]
    assert any(r.startswith("object missing: oss://") for r in reasons), reasons
    assert any(r.startswith("object changed: oss://") for r in reasons), reasons
    assert any(f"output file changed: {files[0]}" in r for r in reasons), reasons
    assert any(f"output file missing: {files[-1]}" in r for r in reasons), reasons

    result = voxform(ice_project, "apply", "--yes")
    assert result.exit_code == 0, result.output
    again = voxform(ice_project, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert read_lockfile(ice_project / "voxform.lock", index=ice_project / INDEX).items
