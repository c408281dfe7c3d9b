"""A storage's calls paced and retried as apply's other calls are.

Each storage operation (HeadObject, ListObjectsV2, ...) gets its own adaptive rate
(pacing.py), started at the target's configured limit for it when there is one; throttling
and other transient errors are retried with backoff and jitter (retry.py), honouring a
retry-after, until a deadline. What is not transient is raised at once.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from voxform.apply.pacing import AdaptiveRate
from voxform.apply.retry import LONGEST_WAIT, RetryPolicy
from voxform.errors import RetryableError, ThrottledError
from voxform.ice.wire import AudioRequest
from voxform.providers.protocol import Deleted, Storage, StorageOperation, StoredPage
from voxform.state.outputs import Output

T = TypeVar("T")


class PacedStorage:
    """`storage`, each call waiting its turn and retried through transient errors."""

    def __init__(
        self,
        storage: Storage,
        limits: Mapping[str, float | None],
        *,
        retry: RetryPolicy | None = None,
        deadline: float = LONGEST_WAIT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.storage = storage
        self.operations = storage.operations
        self.rates = {
            role: AdaptiveRate(limits.get(action)) for role, action in storage.operations.items()
        }
        self.retry = retry or RetryPolicy()
        self.deadline = deadline
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._guard = threading.Lock()

    def audio_name(self, request: AudioRequest) -> str:
        return self.storage.audio_name(request)

    def head(self, name: str) -> Output | None:
        return self._call("head", lambda: self.storage.head(name))

    def list(self, prefix: str, page: str | None = None, *, after: str | None = None) -> StoredPage:
        return self._call("list", lambda: self.storage.list(prefix, page, after=after))

    def copy_if_match(self, source: str, expected: Output, destination: str) -> Output:
        return self._call("copy", lambda: self.storage.copy_if_match(source, expected, destination))

    def delete_many_if_match(self, recorded: Mapping[str, Output]) -> Deleted:
        return self._call("delete", lambda: self.storage.delete_many_if_match(recorded))

    def get(self, name: str, expected: Output | None, destination: Path) -> Output:
        return self._call("get", lambda: self.storage.get(name, expected, destination))

    def close(self) -> None:
        self.storage.close()

    def _call(self, role: StorageOperation, call: Callable[[], T]) -> T:
        rate = self.rates.get(role)
        attempt, first = 0, None
        while True:
            self._wait_turn(rate)
            try:
                value = call()
            except RetryableError as error:
                now = self._clock()
                if rate is not None:
                    with self._guard:
                        rate.answered(now, throttled=isinstance(error, ThrottledError))
                first = now if first is None else first
                if now - first > self.deadline:
                    raise
                with self._guard:
                    delay = self.retry.delay(attempt, error.retry_after, self._rng)
                attempt += 1
                self._sleep(delay)
                continue
            if rate is not None:
                with self._guard:
                    rate.answered(self._clock(), throttled=False)
            return value

    def _wait_turn(self, rate: AdaptiveRate | None) -> None:
        while rate is not None:
            with self._guard:
                wait = rate.take(self._clock())
            if not wait:
                return
            self._sleep(wait)
