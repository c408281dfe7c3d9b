"""The emulated ICE service: its configuration, its lifecycle and the API pipeline.

`Emulator.handle` takes one API call from request to answer without knowing about HTTP:
API version, action, the action's rate limit, signature (then date and nonce), parameters,
then the action itself, each refusal an ApiError as ICE would answer it. Any STS token is
accepted. `start()` serves the emulator over HTTP (see `voxform.emulator.http`); `close()`
stops the server, the jobs and the engine.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from functools import lru_cache
from pathlib import Path
from types import TracebackType

from voxform.emulator.faults import FaultRates, Faults
from voxform.emulator.http import MEDIA_PATH, bind
from voxform.emulator.jobs import JobStore
from voxform.emulator.log import stderr_line
from voxform.emulator.oss.service import OPERATIONS as OSS_OPERATIONS
from voxform.emulator.oss.service import OssService
from voxform.emulator.oss.store import ObjectStore
from voxform.emulator.submission import ApiError, parse_submission, required
from voxform.emulator.synthesis import (
    EspeakSynthesizer,
    SilentSynthesizer,
    SynthesisMode,
    Synthesizer,
)
from voxform.emulator.throttle import RateLimits, Throttled, operation_limits
from voxform.engine.client import EspeakEngine
from voxform.ice.limits import DEFAULT_MAX_INPUT_CHARS
from voxform.ice.signing import NonceCache, SignatureError, VerifiedRequest, verify_request
from voxform.ice.wire import API_VERSION, GET_JOB, LIST_JOBS, SUBMIT

ACTIONS: tuple[str, ...] = (SUBMIT, GET_JOB, LIST_JOBS)
OPERATIONS: tuple[str, ...] = ACTIONS + OSS_OPERATIONS  # what --rate-limit can name
DEFAULT_KEYS = {"testid": "testsecret"}
# Signature errors that ICE answers with 404 rather than 400.
_NOT_FOUND_CODES = ("InvalidAccessKeyId.NotFound",)


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything `voxform emulator` can be told; secrets stay out of the repr."""

    storage: Path
    host: str = "127.0.0.1"
    port: int = 0
    keys: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KEYS), repr=False)
    latency: float = 0.2
    rate_limit: float | None = None  # calls per second of each operation, in its own bucket
    rate_limits: Mapping[str, float] = field(default_factory=dict)  # per operation, wins
    synthesis: SynthesisMode = "espeak"  # "silence": silent audio of the text's length
    max_input_chars: int = DEFAULT_MAX_INPUT_CHARS
    faults: FaultRates = field(default_factory=FaultRates)
    seed: int | None = None
    clock_offset: float = 0.0  # seconds added to this machine's clock (tests simulate skew)
    engine_workers: int | None = None  # syntheses at once (default: per synthesis mode)
    log: Callable[[str], None] | None = None  # one line per request when given

    def operation_limits(self) -> dict[str, float]:
        """Calls per second per operation; an operation not named is not limited."""
        return operation_limits(OPERATIONS, self.rate_limit, self.rate_limits)


class Emulator:
    """A running emulator: start() binds and serves in a thread; close() stops everything."""

    def __init__(self, config: EmulatorConfig) -> None:
        if not config.keys:
            raise ValueError("at least one access key pair is needed")
        if config.latency < 0 or config.max_input_chars < 1:
            raise ValueError("latency must be >= 0 and max_input_chars >= 1")
        self.config = config
        self.storage = config.storage.resolve()
        self.faults = Faults(config.faults, config.seed)
        self.rate_limits = RateLimits(config.operation_limits())
        self.nonces = NonceCache()
        self.stopping = threading.Event()
        self.requests: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self._counter_lock = threading.Lock()
        self._offset = timedelta(seconds=config.clock_offset)
        self._http_date: tuple[int, str] = (0, "")
        self._thread: threading.Thread | None = None
        objects = ObjectStore(self.storage)
        self.oss = OssService(objects, config.keys, clock=self.now, rate_limits=self.rate_limits)
        # Bind first: a port in use must leave no threads or processes behind; and what
        # fails after binding must not leave the socket behind.
        self._server = bind(config.host, config.port, self)
        self.engine: EspeakEngine | None = None  # never made with --synthesis silence
        synthesizer: Synthesizer | None = None
        try:
            if config.synthesis == "silence":
                synthesizer = SilentSynthesizer(config.engine_workers)
            else:
                self.engine = EspeakEngine(config.engine_workers)
                synthesizer = EspeakSynthesizer(self.engine)
            self.jobs = JobStore(
                synthesizer,
                self.storage,
                latency=config.latency,
                faults=self.faults,
                clock=self.now,
                # Silence repeats itself (the same bytes per length), so its objects'
                # digests are kept as they are written; speech is read when listed.
                written=objects.written if config.synthesis == "silence" else None,
            )
        except BaseException:
            if synthesizer is not None:
                synthesizer.close()
            self._server.server_close()
            raise
        self._synthesizer = synthesizer
        self.url = self._server.url

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> Emulator:
        """Serve in a background thread."""
        self.storage.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, cut open connections, stop jobs and the engine (bounded in time)."""
        self.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server.cut_connections()
        self.jobs.close()
        self._synthesizer.close()
        self.jobs.join(timeout=5)

    def now(self) -> datetime:
        """The service's clock: this machine's, shifted by the configured offset."""
        return datetime.now(UTC) + self._offset

    def http_date(self) -> str:
        """now() as an HTTP Date header spells it, worked out once per second."""
        second = math.floor(time.time() + self.config.clock_offset)
        stamped = self._http_date
        if stamped[0] != second:
            stamped = second, formatdate(second, usegmt=True)
            self._http_date = stamped
        return stamped[1]

    def stats(self) -> dict[str, dict[str, int]]:
        """What /_emulator/stats answers: accepted submissions per object, jobs per state,
        request outcomes, and calls and throttled calls per operation."""
        with self._counter_lock:
            requests = dict(sorted(self.requests.items()))
            calls = {action: self.calls[action] for action in ACTIONS}
            throttled = {action: self.throttled[action] for action in ACTIONS}
        return {
            **self.jobs.stats(),
            "requests": requests,
            "calls": calls,
            "throttled": throttled,
            **self.oss.stats(),
        }

    def count(self, outcome: str) -> None:
        """Count one request outcome (`ok`, `dropped`, `error:<Code>`, ...) for stats()."""
        with self._counter_lock:
            self.requests[outcome] += 1

    def handle(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> dict[str, object]:
        """Answer one API call (without RequestId); ApiError, or Throttled, refuses it."""
        # Order matters: a call with several problems is told only about the first.
        version = _header(headers, "x-acs-version")
        if version != API_VERSION:
            raise ApiError(
                400, "InvalidVersion", f"Specified parameter Version {version!r} is not valid."
            )
        action = _header(headers, "x-acs-action")
        if action not in ACTIONS:
            raise ApiError(404, "InvalidApi.NotFound", f"Specified api {action!r} is not found.")
        wait_ms = self.rate_limits.take(action)
        with self._counter_lock:
            self.calls[action] += 1
            if wait_ms is not None:
                self.throttled[action] += 1
                self.requests["throttled"] += 1
        if wait_ms is not None:
            raise Throttled(wait_ms)
        try:
            verified = verify_request(
                method,
                path,
                headers,
                body,
                self.config.keys,
                now=self.now(),
                nonces=self.nonces,
            )
        except SignatureError as error:
            status = 404 if error.code in _NOT_FOUND_CODES else 400
            raise ApiError(status, error.code, error.message) from None
        return self._dispatch(verified)

    def _dispatch(self, verified: VerifiedRequest) -> dict[str, object]:
        params = verified.params
        if verified.action == LIST_JOBS:
            return self.jobs.listing(params)
        if verified.action == SUBMIT:
            job = self.jobs.submit(
                parse_submission(params, self.config.max_input_chars),
                _user_id(verified.access_key_id),
            )
            return {"JobId": job.job_id, "MediaId": job.media_id, "State": "Created"}
        job_id = required(params, "JobId")
        answer = self.jobs.answer(job_id, f"{self.url}{MEDIA_PATH}")
        if answer is None:
            raise ApiError(404, "InvalidParameter", f"The job {job_id!r} was not found.")
        return answer


def _header(headers: Sequence[tuple[str, str]], name: str) -> str:
    """The first value of header `name` (any letter case), or "" when absent."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return ""


@lru_cache(maxsize=64)
def _user_id(access_key_id: str) -> str:
    """A stable 16-digit account id per access key id."""
    return str(int(uuid.uuid5(uuid.NAMESPACE_OID, access_key_id).hex[:15], 16) % 10**16).zfill(16)


def log_to_stderr(line: str) -> None:
    """The request log of `voxform emulator --verbose`: one whole line per request."""
    stderr_line(line)
