"""The emulator over HTTP: signed RPC calls on `/`, test helpers under `/_emulator/`.

Only HTTP lives here: routing, reading bodies, writing JSON answers and ICE's error bodies
(with `x-acs-retry-after` when throttled), the request log, and the injected request faults,
which act on the connection: a dropped connection, a slow answer, a failed request, a lost
answer. They are drawn before the call reaches `Emulator.handle`, so a dropped or failed
submission (or a slow one whose client hung up) creates no job; a lost answer is lost after
the call was handled, so that submission did create its job.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote

from voxform.emulator.body import BodyError, read_body
from voxform.emulator.faults import FaultRates
from voxform.emulator.ids import request_id as new_request_id
from voxform.emulator.log import stderr_line
from voxform.emulator.oss.http import Host, is_oss_path, serve_oss
from voxform.emulator.request import parse_request
from voxform.emulator.submission import ApiError
from voxform.emulator.throttle import Throttled
from voxform.errors import PathEscapeError
from voxform.paths import inside


class Settings(Protocol):
    """What the HTTP layer reads of the emulator's settings."""

    @property
    def faults(self) -> FaultRates: ...

    @property
    def log(self) -> Callable[[str], None] | None: ...


class Emulator(Host, Protocol):
    """What the HTTP layer needs of the running emulator (service.py's Emulator), so that
    service.py imports this module and not the other way round."""

    storage: Path

    @property
    def config(self) -> Settings: ...

    def now(self) -> datetime: ...

    def http_date(self) -> str: ...

    def stats(self) -> dict[str, dict[str, int]]: ...

    def handle(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> dict[str, object]: ...


MEDIA_PATH = "/_emulator/oss"  # + /<bucket>/<object>.<ext>: the OSS stand-in's objects
STATS_PATH = "/_emulator/stats"
MAX_BODY = 4 << 20
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".pcm": "application/octet-stream"}


def bind(host: str, port: int, emulator: Emulator) -> Server:
    """A server for `emulator` bound to (host, port), over IPv6 for an IPv6 host."""
    server_class = _Server6 if ":" in host else Server
    return server_class((host, port), emulator)


class Server(ThreadingHTTPServer):
    """Serves one emulator; tracks connections so close() can cut kept-alive ones."""

    daemon_threads = True
    # The default backlog of 5 drops connections (a second of SYN retries each) under load.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL for clients; a wildcard address is shown as its loopback."""
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host == "0.0.0.0" else "::1" if host == "::" else str(host)
        return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        """Note a connection as open or closed."""
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away is no news; anything else gets one line on stderr."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            stderr_line(f"voxform emulator: {type(error).__name__}: {error}")

    def cut_connections(self) -> None:
        """Shut down every open connection, so no handler thread waits on an idle client."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Server6(Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # an answer's head and body go out as they are written
    server: Server
    timeout = 60  # idle keep-alive connections end after this

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def parse_request(self) -> bool:
        return parse_request(self)  # http.server's, without the email package

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        super().finish()

    def date_time_string(self, timestamp: float | None = None) -> str:
        return self.server.emulator.http_date()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log (when on) is written by `_log`."""

    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if is_oss_path(path):
            return self._oss()
        if path != "/":  # a body nobody reads would be taken for the next request
            try:
                self._read_body()
            except BodyError as error:
                self._error(new_request_id(), error)
                return
        if path == STATS_PATH:
            self._send(200, self.server.emulator.stats())
        elif path.startswith(f"{MEDIA_PATH}/"):
            self._serve_object(unquote(path[len(MEDIA_PATH) + 1 :]))
        elif path == "/":
            self._rpc()
        else:
            self._send(404, {"Code": "NotFound", "Message": f"nothing at {path}"})

    def do_POST(self) -> None:
        if is_oss_path(self.path.partition("?")[0]):
            return self._oss()
        if self.path.partition("?")[0] == "/":
            self._rpc()
        else:
            with contextlib.suppress(ApiError):  # the answer is 404 whatever the body
                self._read_body()
            self._send(404, {"Code": "NotFound", "Message": "RPC calls go to /"})

    def _oss(self) -> None:
        serve_oss(self, self.server.emulator, self.server.emulator.config.log)

    do_HEAD = do_PUT = do_DELETE = _oss

    def _rpc(self) -> None:
        emulator = self.server.emulator
        request_id = new_request_id()
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
                status, code, message, retry_after_ms = emulator.faults.failure()
                if retry_after_ms is None:
                    raise ApiError(status, code, message)
                raise Throttled(retry_after_ms, status, code, message)
            outcome: dict[str, object] | ApiError = emulator.handle(
                self.command, self.path, self.headers.items(), body
            )
        except ApiError as error:
            outcome = error
        except Exception as exc:  # a bug here must still look like the service failing
            stderr_line(f"voxform emulator: {type(exc).__name__}: {exc}")
            outcome = ApiError(
                500, "InternalError", "The request processing has failed due to some unknown error."
            )
        if fault == "drop_response":  # handled, then the answer is lost on its way
            emulator.count("response-dropped")
            self._drop()
            self._log(0, "response dropped")
        elif isinstance(outcome, ApiError):
            self._error(request_id, outcome)
        else:
            emulator.count("ok")
            self._send(200, {"RequestId": request_id, **outcome})
            self._log(200, "")

    def _read_body(self) -> bytes:
        try:
            return read_body(self.headers, self.rfile, MAX_BODY)
        except BodyError:
            # Where the next request starts is unknown: whatever follows is not one.
            self.close_connection = True
            raise

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
        if isinstance(error, Throttled):
            extra["x-acs-retry-after"] = str(error.retry_after_ms)
        self.server.emulator.count(f"error:{error.code}")
        self._send(error.status, body, extra)
        self._log(error.status, error.code)

    def _send(
        self, status: int, body: Mapping[str, object], extra: Mapping[str, str] | None = None
    ) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if self.request_version == "HTTP/0.9":  # no head at all
            self.wfile.write(data)
            return
        # The head as send_response and send_header spell it, made in one piece and sent
        # with the body in one write: an answer in two segments woke the client twice.
        head = (
            f"{self.protocol_version} {status} {_REASONS.get(status, '')}\r\n"
            f"Server: {self.version_string()}\r\n"
            f"Date: {self.server.emulator.http_date()}\r\n"
            f"Content-Type: application/json;charset=utf-8\r\n"
            f"Content-Length: {len(data)}\r\n"
        )
        if "RequestId" in body:
            head += f"x-acs-request-id: {body['RequestId']}\r\n"
        for name, value in (extra or {}).items():
            head += f"{name}: {value}\r\n"
        self.log_request(status)
        self.wfile.write(b"".join((head.encode("latin-1"), b"\r\n", data)))

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
            action = _printable(self.headers.get("x-acs-action", "-"))
            log(f"{self.command} {action} {status or '-'}{' ' + code if code else ''}")


def _printable(value: str) -> str:
    """A header value fit for one log line: a folded header can carry a line break."""
    shown = value if value.isprintable() else repr(value)[1:-1]
    return shown if len(shown) <= 100 else shown[:97] + "..."
