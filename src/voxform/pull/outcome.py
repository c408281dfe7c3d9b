"""What a pull did, and the seam through which it tells how it is going."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from voxform.errors import ProviderError


@dataclass
class PullOutcome:
    """Files downloaded, files already there, failures, and what it took."""

    total: int = 0  # objects to have in the project
    downloaded: list[tuple[str, str, int]] = field(default_factory=list)  # id, file, bytes
    unchanged: list[str] = field(default_factory=list)  # ids whose file was there already
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # id, code, message
    refused: int = 0  # downloads whose bytes were not the object's (each not kept)
    retried: int = 0  # calls tried again after a transient error
    calls: Counter[str] = field(default_factory=Counter)  # OSS calls by operation
    seconds: float = 0.0
    fatal: ProviderError | None = None  # what stopped the pull (every call would fail so)

    @property
    def done(self) -> int:
        return len(self.downloaded) + len(self.unchanged) + len(self.failed)

    @property
    def bytes(self) -> int:
        return sum(size for _, _, size in self.downloaded)


class PullProgress(Protocol):
    """Where a pull tells what happens; the reporter decides how it looks."""

    def pull_failed(self, item_id: str, code: str, message: str) -> None:
        """One object could not be had (told as it happens)."""
        ...

    def pull_running(self, outcome: PullOutcome) -> None:
        """The pull so far (called often: a reporter draws at its own pace)."""
        ...
