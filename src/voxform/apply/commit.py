"""Group commit: when the journal is synced, and which submissions wait for it.

Only intents must be on disk before anything leaves; job ids and results may wait a moment
to share an fsync (lost, they are found again: a job id by its token, a result by looking at
the job). So submissions wait for their intents' fsync at most INTENT_WAIT (or until
INTENT_BATCH of them wait), other changes at most FLUSH_EVERY, and the lockfile itself is
rewritten only every CHECKPOINT_SECONDS, or when the journal holds CHECKPOINT_RECORDS changes
and CHECKPOINT_PER_ENTRY for each of the lockfile's entries: a checkpoint writes them all, so
its cost is spread over as many changes (an apply of 10,000 items records 30,000, and rewrote
its 21 MB lockfile once midway just before writing it at the end).

The fsync runs on a thread of its own (`begin`, then `collect`): it takes milliseconds (4 ms
on a virtual disk, 13 under load), and at 500 submissions a second the scheduler, syncing
itself, spent a fifth of its time waiting for the disk instead of sending what was due.
Changes recorded during a sync wait for the next one; a submission still leaves only after
the sync that holds its intent has ended.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable

from voxform.apply.flight import Flight
from voxform.state.journal import Journal
from voxform.state.lockfile import LockState

FLUSH_EVERY = 0.1
INTENT_WAIT, INTENT_BATCH = 0.01, 32
CHECKPOINT_RECORDS, CHECKPOINT_PER_ENTRY, CHECKPOINT_SECONDS = 30000, 4, 300.0

Synced = tuple[list[Flight], OSError | None]


class GroupCommit:
    """Decides when `journal` is flushed; holds the submissions waiting for it. `wake` is
    called (on the syncing thread) when a sync begun by `begin` has ended."""

    def __init__(self, journal: Journal, now: float, wake: Callable[[], None] = lambda: None):
        self.journal = journal
        self.waiting: list[Flight] = []  # submissions whose intent awaits the fsync
        self._since: float | None = None  # when the oldest of them began to wait
        self._flushed = self._checkpointed = now
        self._wake = wake
        self._syncing: list[Flight] | None = None  # the submissions of the sync under way
        self._synced: queue.SimpleQueue[Synced] = queue.SimpleQueue()
        self._work: queue.SimpleQueue[list[Flight] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """A sync is under way on the syncing thread."""
        return self._syncing is not None

    def hold(self, flight: Flight) -> None:
        """`flight`'s intent is recorded: send it after the next flush."""
        self.waiting.append(flight)

    def due(self, now: float, *, force: bool = False) -> bool:
        """Whether to flush now (never while a sync is under way, unless forced)."""
        if self.waiting and self._since is None:
            self._since = now
        if self.busy and not force:
            return False
        intents = self._since is not None and (
            len(self.waiting) >= INTENT_BATCH or now - self._since >= INTENT_WAIT
        )
        return force or intents or (self.journal.dirty and now - self._flushed >= FLUSH_EVERY)

    def begin(self, now: float) -> None:
        """Start a sync on the syncing thread; `collect` gives its submissions once done."""
        assert not self.busy
        self._since, self._flushed = None, now
        self._syncing, self.waiting = self.waiting, []
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._serve, name="voxform-apply-journal", daemon=True
            )
            self._thread.start()
        self._work.put(self._syncing)

    def collect(self) -> list[Flight]:
        """The submissions that may leave now that the sync under way has ended (none while
        it has not); OSError when it failed: their intents are not on disk, so they never
        leave."""
        try:
            flights, error = self._synced.get_nowait()
        except queue.Empty:
            return []
        self._syncing = None
        if error is not None:
            raise error
        return flights

    def flush(self, now: float) -> list[Flight]:
        """Sync the journal here, after the sync under way (OSError when either fails); the
        submissions that may now leave."""
        ready: list[Flight] = []
        if self.busy:
            ready = self._wait()
        self._since, self._flushed = None, now
        waiting, self.waiting = self.waiting, []
        try:
            self.journal.flush()
        except OSError:
            waiting.clear()  # their intents are not on disk: they never leave
            raise
        return ready + waiting

    def checkpoint(self, state: LockState, now: float) -> None:
        """Fold the journal into the lockfile when it has grown or aged enough (not while a
        sync is under way)."""
        if not self.busy and (
            self.journal.since_checkpoint
            >= max(CHECKPOINT_RECORDS, CHECKPOINT_PER_ENTRY * len(state.items))
            or now - self._checkpointed >= CHECKPOINT_SECONDS
        ):
            self.journal.checkpoint(state)
            self._checkpointed = now

    def wake(self, wake: float) -> float:
        """The earliest moment a flush will be due, if before `wake` (a sync under way
        wakes the scheduler itself when it ends)."""
        if self.busy:
            return wake
        if self._since is not None:
            return min(wake, self._since + INTENT_WAIT)
        if self.journal.dirty:
            return min(wake, self._flushed + FLUSH_EVERY)
        return wake

    def close(self) -> None:
        """Wait for the sync under way (its result is dropped), then end the thread."""
        if self.busy:
            with contextlib.suppress(OSError):
                self._wait()
        if self._thread is not None:
            self._work.put(None)
            self._thread = None

    def _wait(self) -> list[Flight]:
        flights, error = self._synced.get()
        self._syncing = None
        if error is not None:
            raise error
        return flights

    def _serve(self) -> None:
        while (flights := self._work.get()) is not None:
            try:
                self.journal.flush()
            except OSError as error:
                self._synced.put((flights, error))
            else:
                self._synced.put((flights, None))
            self._wake()
