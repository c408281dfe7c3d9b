"""OSS over HTTP: every path but `/` (ICE's RPC) and `/_emulator/...` is a path-style OSS
request, handed here by the emulator's HTTP handler.

The injected faults act as they do on ICE's calls, drawn before the request is handled: a
dropped connection, a slow answer, a failed request (503), a lost answer (after handling).
`--corrupt-reads` changes one byte of a GetObject body and nothing in its headers, so a
client that checks what it downloads refuses it. Errors are OSS's XML with
`x-oss-request-id`; a HEAD answer has no body, so its error document travels base64-encoded
in `x-oss-err`, as OSS sends it.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from typing import Protocol

from voxform.emulator.body import BodyError, read_body
from voxform.emulator.faults import Faults
from voxform.emulator.oss.service import Answer, OssError, OssService
from voxform.oss.documents import ErrorDocument, error_document

MAX_OBJECT = 256 << 20  # the largest PutObject body the emulator takes


class Host(Protocol):
    """What the OSS room needs of the running emulator."""

    oss: OssService
    faults: Faults
    stopping: threading.Event

    def count(self, outcome: str) -> None: ...


def is_oss_path(path: str) -> bool:
    """Whether a request path (without its query) is OSS's, not ICE's or the test helpers'."""
    return path != "/" and not path.startswith("/_emulator/")


def serve_oss(
    handler: BaseHTTPRequestHandler, host: Host, log: Callable[[str], None] | None
) -> None:
    """Answer one OSS request on `handler`'s connection."""
    request_id = secrets.token_hex(12).upper()
    fault = host.faults.for_request()
    if fault == "drop":
        host.count("dropped")
        _drop(handler)
        return
    if fault == "slow":
        host.count("slowed")
        if host.stopping.wait(host.faults.rates.slow_seconds) or _hung_up(handler):
            host.count("abandoned")
            _drop(handler)
            return
    operation = "-"
    try:
        try:
            body = read_body(handler.headers, handler.rfile, MAX_OBJECT)
        except BodyError as error:
            handler.close_connection = True
            raise OssError(error.status, error.code, error.message) from None
        if fault == "fail":
            host.count("failed")
            _, code, _, _ = host.faults.failure()
            code = "ServiceUnavailable" if code == "ServiceUnavailable" else "SlowDown"
            raise OssError(503, code, "The service is unavailable; please retry.")
        operation, answer = host.oss.handle(
            handler.command, handler.path, handler.headers.items(), body
        )
        if operation == "GetObject":
            answer = replace(answer, body=host.faults.corrupted(answer.body))
    except OssError as error:
        answer = _error_answer(handler, request_id, error)
    except Exception as exc:  # a bug here must still look like the service failing
        answer = _error_answer(handler, request_id, OssError(500, "InternalError", str(exc)))
    if fault == "drop_response":
        host.count("response-dropped")
        _drop(handler)
        return
    host.count(f"error:{answer.code}" if answer.code else "ok")
    _send(handler, request_id, answer)
    if log is not None:
        shown = f" {answer.code}" if answer.code else ""
        log(f"{handler.command} {operation} {answer.status}{shown}")


def _error_answer(handler: BaseHTTPRequestHandler, request_id: str, error: OssError) -> Answer:
    document = error_document(
        ErrorDocument(
            code=error.code,
            message=error.message,
            request_id=request_id,
            host_id=handler.headers.get("host", ""),
            ec="0000-00000000",
        )
    )
    headers = {"content-type": "application/xml", "x-oss-ec": "0000-00000000"}
    if handler.command == "HEAD":
        headers["x-oss-err"] = base64.b64encode(document).decode("ascii")
        return Answer(error.status, headers, code=error.code)
    return Answer(error.status, headers, document, code=error.code)


def _send(handler: BaseHTTPRequestHandler, request_id: str, answer: Answer) -> None:
    handler.send_response(answer.status)
    headers = dict(answer.headers)
    headers.setdefault("content-length", str(len(answer.body)))
    headers["x-oss-request-id"] = request_id
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command != "HEAD" and answer.body:
        handler.wfile.write(answer.body)


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection without a word (a reset, like a failing load balancer)."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)


def _hung_up(handler: BaseHTTPRequestHandler) -> bool:
    """Whether the client closed its side while the answer was delayed."""
    try:
        readable, _, _ = select.select([handler.connection], [], [], 0)
        return bool(readable) and handler.connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True
