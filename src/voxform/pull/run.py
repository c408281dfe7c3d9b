"""Fetching objects into the project: one listing, then only the downloads that are needed.

Per target, the keys wanted are looked up with ListObjectsV2 under their longest common
prefix (a thousand keys a call: a `--select` of one chapter lists only that chapter); a
file the pull record shows unchanged next to an unchanged object is skipped, every other
one is downloaded by a few workers, each GetObject paced per operation and written as
every project file is (through no symlink, renamed in only once its CRC-64 and size are
the object's). Transient failures, a corrupted download among them, are tried again a few
times with backoff; what still fails is reported, and its old file (if any) stays as it was.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from voxform.apply.retry import RetryPolicy
from voxform.errors import (
    FatalError,
    ItemError,
    PathEscapeError,
    ProviderError,
    RetryableError,
)
from voxform.files import check_directory
from voxform.manifest.model import Target
from voxform.oss.documents import ObjectInfo
from voxform.paths import below
from voxform.providers.credentials import Credentials
from voxform.providers.oss_client import OssClient
from voxform.providers.oss_errors import DownloadCorrupted
from voxform.providers.oss_storage import bucket_endpoint
from voxform.pull.outcome import PullOutcome, PullProgress
from voxform.pull.wanted import Wanted
from voxform.state.pulled import PullRecord

WORKERS = 4  # downloads at once
ATTEMPTS = 4  # tries of one call before its item fails
RATES = {"GetObject": 1000.0, "ListObjectsV2": 100.0}  # calls per second unless a target says
POLICY = RetryPolicy(base=0.2, cap=5.0, longest=30.0)
T = TypeVar("T")


class Interrupted(Exception):
    """The pull is stopping (Ctrl-C, or a fatal error elsewhere): no new call goes out."""


def client_for(target: Target, credentials: Credentials) -> OssClient:
    """The OSS client of an ICE target's bucket, at the endpoint plan and apply use."""
    return OssClient(bucket_endpoint(target), credentials)


class Pace:
    """Each operation's calls spaced at its rate (a simple schedule, shared by threads)."""

    def __init__(self, rates: Mapping[str, float]) -> None:
        self._gap = {op: 1.0 / rate for op, rate in rates.items() if rate > 0}
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, operation: str, stop: threading.Event) -> None:
        """Return when the next call of `operation` may go (or `stop` is set)."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(operation, now))
            self._next[operation] = slot + self._gap.get(operation, 0.0)
        if slot > now:
            stop.wait(slot - now)


class Puller:
    """One pull: the objects of `wanted` into the project at `root`."""

    def __init__(
        self,
        record: PullRecord,
        progress: PullProgress,
        clients: Mapping[str, OssClient],
        targets: Mapping[str, Target],
        *,
        workers: int = WORKERS,
    ) -> None:
        self.root = record.root
        self.record = record
        self.progress = progress
        self.clients = clients
        self.workers = workers
        rates = dict(RATES)
        for target in targets.values():  # the lowest a target gives for an operation
            for operation in RATES:
                if operation in target.rate_limits:
                    rates[operation] = min(rates[operation], target.rate_limits[operation])
        self.pace = Pace(rates)
        self.outcome = PullOutcome()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._rng = random.Random()

    def run(self, wanted: Sequence[Wanted]) -> PullOutcome:
        """Have every object of `wanted` in its file. A fatal error, or a listing that
        fails, stops the pull (after the calls under way have ended): `outcome.fatal`."""
        started = time.monotonic()
        self.outcome.total = len(wanted)
        try:
            todo = self._needed(wanted)
            self._download(todo)
        except ProviderError as error:
            self.outcome.fatal = error
        finally:
            self.outcome.seconds = time.monotonic() - started
        return self.outcome

    # -- what is needed -------------------------------------------------------------------

    def _needed(self, wanted: Sequence[Wanted]) -> list[Wanted]:
        """The objects to download: not in the bucket, or in an unsafe folder, fail here;
        an unchanged file is counted as such."""
        unsafe = self._unsafe_folders(wanted)
        by_target: dict[str, list[Wanted]] = {}
        for item in wanted:
            by_target.setdefault(item.target, []).append(item)
        todo: list[Wanted] = []
        for name, items in by_target.items():
            listed = self._listed(self.clients[name], items)
            for item in items:
                info = listed.get(item.key)
                why = unsafe.get(item.file.rpartition("/")[0])
                if why is not None:
                    self._failed(item, "UnsafePath", why)
                elif info is None:
                    self._failed(
                        item, "ObjectMissing", f"{item.url} is not in the bucket (apply makes it)"
                    )
                elif self.record.unchanged(item.file, item.bucket, item.key, info.etag, info.size):
                    self.outcome.unchanged.append(item.item_id)
                else:
                    todo.append(item)
            self.progress.pull_running(self.outcome)
        return todo

    def _unsafe_folders(self, wanted: Sequence[Wanted]) -> dict[str, str]:
        """Folders of `wanted` files that a symlink (or a file) on the way makes unusable."""
        unsafe: dict[str, str] = {}
        for folder in sorted({w.file.rpartition("/")[0] for w in wanted}):
            try:
                if folder:
                    check_directory(self.root, folder)
            except (PathEscapeError, OSError) as error:
                unsafe[folder] = str(error)
        return unsafe

    def _listed(self, client: OssClient, items: Sequence[Wanted]) -> dict[str, ObjectInfo]:
        """The objects under the common prefix of `items`' keys, by key."""
        prefix = _common_prefix([w.key for w in items])
        found: dict[str, ObjectInfo] = {}
        token: str | None = None
        while True:
            page = self._call("ListObjectsV2", functools.partial(client.list_page, prefix, token))
            found.update((o.key, o) for o in page.objects)
            if page.next_token is None:
                return found
            token = page.next_token

    # -- downloads ------------------------------------------------------------------------

    def _download(self, todo: Sequence[Wanted]) -> None:
        """Download `todo` with a few workers, at most twice as many queued as working."""
        fatal: FatalError | None = None
        queue: Iterator[Wanted] = iter(todo)
        running: dict[Future[ObjectInfo], Wanted] = {}
        with ThreadPoolExecutor(self.workers, thread_name_prefix="pull") as pool:
            try:
                while True:
                    while not self.stop.is_set() and len(running) < 2 * self.workers:
                        item = next(queue, None)
                        if item is None:
                            break
                        running[pool.submit(self._get, item)] = item
                    if not running:
                        break
                    done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        fatal = self._settle(running.pop(future), future) or fatal
                    if fatal is not None:
                        self.stop.set()
                    self.progress.pull_running(self.outcome)
            except BaseException:  # Ctrl-C: no new call; what is under way ends and is kept
                self.stop.set()
                for future in wait(running).done:
                    self._settle(running[future], future)
                raise
        if fatal is not None:
            raise fatal

    def _get(self, item: Wanted) -> ObjectInfo:
        path = below(self.root, item.file)
        client = self.clients[item.target]
        return self._call("GetObject", lambda: client.get_object(item.key, path, root=self.root))

    def _settle(self, item: Wanted, future: Future[ObjectInfo]) -> FatalError | None:
        """Record one download's end; the fatal error that must stop the pull, if any."""
        try:
            info = future.result()
        except Interrupted:
            return None
        except FatalError as error:
            self._failed(item, error.code or "Fatal", str(error))
            return error
        except (RetryableError, ItemError) as error:
            self._failed(item, error.code or type(error).__name__, str(error))
            return None
        except (PathEscapeError, OSError) as error:
            self._failed(item, "Unwritable", f"{item.file}: {error}")
            return None
        self.record.wrote(item.file, item.bucket, item.key, info.etag, info.size, info.crc64 or 0)
        self.outcome.downloaded.append((item.item_id, item.file, info.size))
        return None

    def _failed(self, item: Wanted, code: str, message: str) -> None:
        self.outcome.failed.append((item.item_id, code, message))
        self.progress.pull_failed(item.item_id, code, message)

    # -- one call -------------------------------------------------------------------------

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        """`call`, paced and counted, tried again after a transient error (a corrupted
        download included) up to ATTEMPTS times."""
        attempt = 0
        while True:
            self.pace.wait(operation, self.stop)
            if self.stop.is_set():
                raise Interrupted
            with self._lock:
                self.outcome.calls[operation] += 1
            try:
                return call()
            except RetryableError as error:
                with self._lock:
                    self.outcome.refused += isinstance(error, DownloadCorrupted)
                attempt += 1
                if attempt >= ATTEMPTS:
                    raise
                with self._lock:
                    self.outcome.retried += 1
                    delay = POLICY.delay(attempt - 1, error.retry_after, self._rng)
                self.stop.wait(delay)


def _common_prefix(keys: Sequence[str]) -> str:
    """The longest string every key starts with (OSS prefixes are strings, not paths)."""
    first, last = min(keys), max(keys)
    size = 0
    while size < len(first) and first[size] == last[size]:
        size += 1
    return first[:size]
