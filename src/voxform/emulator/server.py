"""The ICE emulator's HTTP server: signed RPC calls on `/`, test helpers under `/_emulator/`.

Each call meets, in order: an injected fault, the rate limit, the API version and action,
the signature (then date and nonce), and the parameters. Any STS token is accepted.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

from voxform.emulator.faults import FaultRates, Faults, RateLimiter
from voxform.emulator.jobs import ApiError, JobStore, invalid, parse_submission, required
from voxform.engine.client import EspeakEngine
from voxform.errors import PathEscapeError
from voxform.ice.signing import NonceCache, SignatureError, VerifiedRequest, verify_request
from voxform.paths import inside

API_VERSION = "2020-11-09"
ACTIONS = ("SubmitAudioProduceJob", "GetSmartHandleJob")
DEFAULT_KEYS = {"testid": "testsecret"}
MAX_BODY = 4 << 20
_AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".pcm": "application/octet-stream"}
_NOT_FOUND_CODES = ("InvalidAccessKeyId.NotFound",)


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything `voxform emulator` can be told; secrets stay out of the repr."""

    storage: Path
    host: str = "127.0.0.1"
    port: int = 0
    keys: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KEYS), repr=False)
    latency: float = 0.2
    rate_limit: float | None = None
    max_input_chars: int = 2000
    faults: FaultRates = field(default_factory=FaultRates)
    seed: int | None = None
    clock_offset: float = 0.0  # seconds added to this machine's clock (tests simulate skew)
    engine_workers: int | None = None
    log: Callable[[str], None] | None = None  # one line per request when given


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
        self.limiter = RateLimiter(config.rate_limit) if config.rate_limit else None
        self.nonces = NonceCache()
        self.stopping = threading.Event()
        self.requests: Counter[str] = Counter()
        self._counter_lock = threading.Lock()
        # Bind first: a port in use must leave no threads or processes behind.
        server_class = _Server6 if ":" in config.host else _Server
        self._server: _Server = server_class((config.host, config.port), _Handler)
        self._server.emulator = self
        self._engine = EspeakEngine(config.engine_workers)
        self.jobs = JobStore(
            self._engine,
            self.storage,
            latency=config.latency,
            faults=self.faults,
            clock=self.now,
        )
        self._thread: threading.Thread | None = None
        host, port = self._server.server_address[:2]
        shown = "127.0.0.1" if host == "0.0.0.0" else "::1" if host == "::" else str(host)
        self.url = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"

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
        self._engine.close()
        self.jobs.join(timeout=5)

    def now(self) -> datetime:
        """The service's clock: this machine's, shifted by the configured offset."""
        return datetime.now(UTC) + timedelta(seconds=self.config.clock_offset)

    def stats(self) -> dict[str, dict[str, int]]:
        """Submissions per object, jobs per state and request outcomes (as /_emulator/stats)."""
        with self._counter_lock:
            requests = dict(sorted(self.requests.items()))
        return {**self.jobs.stats(), "requests": requests}

    def count(self, outcome: str) -> None:
        with self._counter_lock:
            self.requests[outcome] += 1

    def call(self, verified: VerifiedRequest) -> dict[str, object]:
        """Run one verified RPC call; ApiError for an error answer."""
        params = verified.params
        if verified.action == "SubmitAudioProduceJob":
            job = self.jobs.submit(
                parse_submission(params, self.config.max_input_chars),
                _user_id(verified.access_key_id),
            )
            return {"JobId": job.job_id, "MediaId": job.media_id, "State": "Created"}
        job_id = required(params, "JobId")
        answer = self.jobs.answer(job_id, f"{self.url}/_emulator/oss")
        if answer is None:
            raise ApiError(404, "InvalidParameter", f"The job {job_id!r} was not found.")
        return answer


def _user_id(access_key_id: str) -> str:
    """A stable 16-digit account id per access key id."""
    return str(int(uuid.uuid5(uuid.NAMESPACE_OID, access_key_id).hex[:15], 16) % 10**16).zfill(16)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator

    def __init__(self, address: tuple[str, int], handler: type[_Handler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away is no news; anything else gets one line on stderr."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            print(f"voxform emulator: {type(error).__name__}: {error}", file=sys.stderr)

    def cut_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Throttled(ApiError):
    """Throttling.User, with the milliseconds to wait for `x-acs-retry-after`."""

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(400, "Throttling.User", "Request was denied due to user flow control.")
        self.retry_after_ms = retry_after_ms


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: _Server
    timeout = 60  # idle keep-alive connections end after this

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        super().finish()

    def date_time_string(self, timestamp: float | None = None) -> str:
        return format_datetime(self.server.emulator.now(), usegmt=True)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log (when on) is written by `_log`."""

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/_emulator/stats":
            self._send(200, self.server.emulator.stats())
        elif path.startswith("/_emulator/oss/"):
            self._serve_object(unquote(path[len("/_emulator/oss/") :]))
        elif path == "/":
            self._rpc()
        else:
            self._send(404, {"Code": "NotFound", "Message": f"nothing at {path}"})

    def do_POST(self) -> None:
        if self.path.partition("?")[0] == "/":
            self._rpc()
        else:
            with contextlib.suppress(ApiError):  # the answer is 404 whatever the body
                self._read_body()
            self._send(404, {"Code": "NotFound", "Message": "RPC calls go to /"})

    def _rpc(self) -> None:
        emulator = self.server.emulator
        request_id = str(uuid.uuid4()).upper()
        fault = emulator.faults.for_request()
        if fault == "drop":
            emulator.count("dropped")
            self._drop()
            self._log(0, "dropped")
            return
        if fault == "slow":
            emulator.count("slowed")
            if emulator.stopping.wait(emulator.config.faults.slow_seconds) or self._hung_up():
                emulator.count("abandoned")  # the client gave up: nothing is done
                self._drop()
                return
        try:
            body = self._read_body()
            if fault == "fail":
                emulator.count("failed")
                raise ApiError(*emulator.faults.failure())
            answer = self._answer(body)
        except ApiError as error:
            self._error(request_id, error)
            return
        except Exception as exc:  # a bug here must still look like the service failing
            print(f"voxform emulator: {type(exc).__name__}: {exc}", file=sys.stderr)
            self._error(
                request_id,
                ApiError(
                    500,
                    "InternalError",
                    "The request processing has failed due to some unknown error.",
                ),
            )
            return
        emulator.count("ok")
        self._send(200, {"RequestId": request_id, **answer})
        self._log(200, "")

    def _answer(self, body: bytes) -> dict[str, object]:
        """Rate limit, API lookup, signature, then the action itself."""
        emulator = self.server.emulator
        if emulator.limiter is not None:
            wait_ms = emulator.limiter.take()
            if wait_ms is not None:
                emulator.count("throttled")
                raise _Throttled(wait_ms)
        version = self.headers.get("x-acs-version", "")
        if version != API_VERSION:
            raise ApiError(
                400, "InvalidVersion", f"Specified parameter Version {version!r} is not valid."
            )
        action = self.headers.get("x-acs-action", "")
        if action not in ACTIONS:
            raise ApiError(404, "InvalidApi.NotFound", f"Specified api {action!r} is not found.")
        try:
            verified = verify_request(
                self.command,
                self.path,
                self.headers.items(),
                body,
                emulator.config.keys,
                now=emulator.now(),
                nonces=emulator.nonces,
            )
        except SignatureError as error:
            status = 404 if error.code in _NOT_FOUND_CODES else 400
            raise ApiError(status, error.code, error.message) from None
        return emulator.call(verified)

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            raise invalid(f"Content-Length must be a number of bytes up to {MAX_BODY}.")
        return self.rfile.read(length) if length else b""

    def _serve_object(self, key: str) -> None:
        storage = self.server.emulator.storage
        try:
            path = inside(storage, key)
            data = path.read_bytes() if path.is_file() else None
        except (PathEscapeError, OSError):
            data = None
        if data is None:
            self._send(404, {"Code": "NoSuchKey", "Message": "The specified key does not exist."})
            return
        self.send_response(200)
        self.send_header("Content-Type", _AUDIO_TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, request_id: str, error: ApiError) -> None:
        host = self.headers.get("host", "")
        body = {
            "RequestId": request_id,
            "Code": error.code,
            "Message": error.message,
            "HostId": host,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={error.code}&product=ICE"
            f"&requestId={request_id}",
        }
        extra = {}
        if isinstance(error, _Throttled):
            extra["x-acs-retry-after"] = str(error.retry_after_ms)
        self.server.emulator.count(f"error:{error.code}")
        self._send(error.status, body, extra)
        self._log(error.status, error.code)

    def _send(
        self, status: int, body: Mapping[str, object], extra: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if "RequestId" in body:
            self.send_header("x-acs-request-id", str(body["RequestId"]))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close the connection without a word (a reset, like a failing load balancer)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _hung_up(self) -> bool:
        """Whether the client closed its side while the answer was delayed."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _log(self, status: int, code: str) -> None:
        log = self.server.emulator.config.log
        if log is not None:
            action = self.headers.get("x-acs-action", "-")
            log(f"{self.command} {action} {status or '-'}{' ' + code if code else ''}")


def log_to_stderr(line: str) -> None:
    """The request log of `voxform emulator --verbose`."""
    print(line, file=sys.stderr, flush=True)
