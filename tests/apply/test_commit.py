"""When the apply journal is folded into the lockfile (apply/commit.py): a checkpoint
rewrites every entry, so it waits for a number of changes that grows with the lockfile."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxform.apply.commit import CHECKPOINT_PER_ENTRY, CHECKPOINT_RECORDS, GroupCommit
from voxform.state.journal import Journal
from voxform.state.lockfile import LockEntry, LockState

FINISHED = LockEntry(state="finished", fingerprint="sha256:" + "ab" * 32, characters=3)


@pytest.mark.parametrize("entries", [10, CHECKPOINT_RECORDS // CHECKPOINT_PER_ENTRY + 500])
def test_a_checkpoint_waits_for_changes_in_proportion_to_the_lockfile(
    tmp_path: Path, entries: int
) -> None:
    (tmp_path / ".voxform").mkdir()
    lock_path = tmp_path / "voxform.lock"
    journal = Journal(lock_path, tmp_path / ".voxform" / "voxform.lock.journal")
    journal.open()
    state = LockState({f"i{n}": FINISHED for n in range(entries)})
    commit = GroupCommit(journal, 0.0)
    for n in range(CHECKPOINT_RECORDS):
        journal.record(f"i{n % entries}", FINISHED)
    journal.flush()

    commit.checkpoint(state, 1.0)

    small = CHECKPOINT_PER_ENTRY * entries <= CHECKPOINT_RECORDS
    assert lock_path.exists() == small
    assert (journal.since_checkpoint == 0) == small
    if not small:  # the rest of the changes a lockfile this size waits for
        for n in range(CHECKPOINT_PER_ENTRY * entries - CHECKPOINT_RECORDS):
            journal.record(f"i{n % entries}", FINISHED)
        journal.flush()
        commit.checkpoint(state, 2.0)
        assert lock_path.exists()
        assert journal.since_checkpoint == 0
    journal.close(None)
