"""What an apply did, and the seam through which it tells how it is going."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from voxform.errors import FatalError, RetryableError
from voxform.plan.plan import Change
from voxform.state.lockfile import LockEntry


@dataclass
class Outcome:
    """Items finished and failed, what they cost, and how the run ended."""

    finished: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # id, code, message
    unresolved: list[str] = field(default_factory=list)  # submitted or not: looked up next time
    unsent: list[str] = field(default_factory=list)  # intents found never sent (refresh)
    irreproducible: list[tuple[str, str]] = field(default_factory=list)  # id, file
    pruned: list[str] = field(default_factory=list)  # items deleted with --prune
    remote: list[str] = field(default_factory=list)  # their objects at the service, to remove
    unpruned: list[str] = field(default_factory=list)  # removed items whose files stay named
    deleted: list[str] = field(default_factory=list)  # files removed (pruned or superseded)
    kept: list[tuple[str, str]] = field(default_factory=list)  # file, why: the lockfile named it
    copied: list[tuple[str, str]] = field(default_factory=list)  # id, from: made by a copy
    copy_fallbacks: list[tuple[str, str, str]] = field(default_factory=list)  # id, from, why
    objects_recorded: int = 0  # finished items whose object in the bucket was read and recorded
    objects_error: str | None = None  # why some could not be (they are read next time)
    characters: int = 0
    audio_seconds: float = 0.0
    interrupted: bool = False
    fatal: FatalError | None = None
    seconds: float = 0.0

    def count(self, change: Change, entry: LockEntry, previous: LockEntry | None = None) -> None:
        """One item's result. A free (local) rebuild of unchanged inputs must give the bytes
        the lockfile recorded; a file that differs is noted (the engine or the inputs are not
        what the lockfile claims)."""
        if entry.state == "finished":
            self.finished.append(change.id)
            self.characters += change.characters
            self.audio_seconds += entry.duration or 0.0
            if (
                not change.billed
                and previous is not None
                and previous.outputs
                and entry.outputs
                and previous.fingerprint == entry.fingerprint
            ):
                self.irreproducible += [
                    (change.id, name)
                    for name, digest in entry.outputs.items()
                    if previous.outputs.get(name, digest) != digest
                ]
        else:
            self.failed.append((change.id, entry.error_code or "", entry.error_message or ""))


class Progress(Protocol):
    """Where the pipeline tells what happens; the reporter decides how it looks."""

    def item_done(self, change: Change, entry: LockEntry) -> None:
        """One item's result is recorded."""
        ...

    def retrying(self, change: Change, error: RetryableError, delay: float) -> None:
        """A step of one item meets a transient error and is tried again after `delay`."""
        ...

    def running(self, in_flight: int, outcome: Outcome) -> None:
        """The run so far (called often: a reporter draws at its own pace)."""
        ...
