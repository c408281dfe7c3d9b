"""Group commit: when the journal is synced, and which submissions wait for it.

Only intents must be on disk before anything leaves; job ids and results may wait a moment
to share an fsync (lost, they are found again: a job id by its token, a result by looking at
the job). So submissions wait for their intents' fsync at most INTENT_WAIT (or until
INTENT_BATCH of them wait), other changes at most FLUSH_EVERY, and the lockfile itself is
rewritten only every CHECKPOINT_RECORDS changes or CHECKPOINT_SECONDS.
"""

from __future__ import annotations

from voxform.apply.flight import Flight
from voxform.state.journal import Journal
from voxform.state.lockfile import LockState

FLUSH_EVERY = 0.1
INTENT_WAIT, INTENT_BATCH = 0.01, 32
CHECKPOINT_RECORDS, CHECKPOINT_SECONDS = 30000, 300.0


class GroupCommit:
    """Decides when `journal` is flushed; holds the submissions waiting for it."""

    def __init__(self, journal: Journal, now: float) -> None:
        self.journal = journal
        self.waiting: list[Flight] = []  # submissions whose intent awaits the fsync
        self._since: float | None = None  # when the oldest of them began to wait
        self._flushed = self._checkpointed = now

    def hold(self, flight: Flight) -> None:
        """`flight`'s intent is recorded: send it after the next flush."""
        self.waiting.append(flight)

    def due(self, now: float, *, force: bool = False) -> bool:
        """Whether to flush now."""
        if self.waiting and self._since is None:
            self._since = now
        intents = self._since is not None and (
            len(self.waiting) >= INTENT_BATCH or now - self._since >= INTENT_WAIT
        )
        return force or intents or (self.journal.dirty and now - self._flushed >= FLUSH_EVERY)

    def flush(self, now: float) -> list[Flight]:
        """Sync the journal (OSError when it cannot); the submissions that may now leave."""
        self._since, self._flushed = None, now
        waiting, self.waiting = self.waiting, []
        try:
            self.journal.flush()
        except OSError:
            waiting.clear()  # their intents are not on disk: they never leave
            raise
        return waiting

    def checkpoint(self, state: LockState, now: float) -> None:
        """Fold the journal into the lockfile when it has grown or aged enough."""
        if (
            self.journal.since_checkpoint >= CHECKPOINT_RECORDS
            or now - self._checkpointed >= CHECKPOINT_SECONDS
        ):
            self.journal.checkpoint(state)
            self._checkpointed = now

    def wake(self, wake: float) -> float:
        """The earliest moment a flush will be due, if before `wake`."""
        if self._since is not None:
            return min(wake, self._since + INTENT_WAIT)
        if self.journal.dirty:
            return min(wake, self._flushed + FLUSH_EVERY)
        return wake
