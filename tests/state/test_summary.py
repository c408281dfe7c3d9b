"""`voxform status`: the lockfile summed up, per state and target, with what is open."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner
from voxform.state.lockfile import LockEntry, LockState, write_lockfile


def test_status_after_an_apply_counts_every_item_as_finished(
    quickstart: Path, voxform: Runner
) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    result = voxform(quickstart, "status", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["items"] == 10
    assert document["states"] == {"finished": 10, "pending": 0, "failed": 0}
    assert document["targets"] == {"local": {"finished": 10, "pending": 0, "failed": 0}}
    assert document["characters"] == 578
    assert document["audio_seconds"] > 30
    assert document["pending"] == [] and document["failed"] == []


def test_status_lists_pending_and_failed_items_and_orphans(
    quickstart: Path, voxform: Runner
) -> None:
    lock = LockState(
        {
            "welcome": LockEntry("pending", "sha256:" + "1" * 64, 22, job_id="job-7"),
            "guest-tip": LockEntry("pending", "sha256:" + "2" * 64, 9, token="0123456789" * 2),
            "lesson-01": LockEntry(
                "failed", "sha256:" + "3" * 64, 5, error_code="X.Y", error_message="no"
            ),
            "gone": LockEntry("finished", "sha256:" + "4" * 64, 40, duration=3.0),
        }
    )
    write_lockfile(quickstart / "voxform.lock", lock)
    text = voxform(quickstart, "status")
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].endswith(
        "voxform.lock: 4 items: 1 finished, 2 pending, 1 failed; 40 characters, "
        "0.1 minutes of audio"
    )
    assert "  (no longer in the manifests): 1 finished" in lines
    assert "  local: 2 pending, 1 failed" in lines
    assert "  welcome: job job-7" in lines
    assert "  guest-tip: job id unknown: looked up by its token" in lines
    assert "  lesson-01: X.Y: no" in lines
    document = json.loads(voxform(quickstart, "status", "--json").stdout)
    assert document["pending"] == [
        {"id": "guest-tip", "job_id": None},
        {"id": "welcome", "job_id": "job-7"},
    ]


def test_status_replays_what_a_crashed_apply_journaled(quickstart: Path, voxform: Runner) -> None:
    from voxform.state.journal import Journal, journal_path

    lock_path = quickstart / "voxform.lock"
    journal = Journal(lock_path, journal_path(quickstart, lock_path))
    journal.open()
    journal.record("welcome", LockEntry("pending", "sha256:" + "1" * 64, 22, job_id="job-9"))
    journal.flush()  # and the process dies: no lockfile was ever written
    document = json.loads(voxform(quickstart, "status", "--json").stdout)
    assert document["pending"] == [{"id": "welcome", "job_id": "job-9"}]
    assert not lock_path.exists()  # status only reads


def test_status_of_a_project_never_applied_says_nothing_is_recorded(
    quickstart: Path, voxform: Runner
) -> None:
    result = voxform(quickstart, "status")
    assert result.exit_code == 0
    assert "0 items: nothing" in result.output
