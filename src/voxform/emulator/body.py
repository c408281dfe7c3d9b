"""Request bodies as HTTP/1.1 frames them: a Content-Length, or chunks.

BaseHTTPRequestHandler reads no body itself, and a body left unread on a kept-alive
connection is taken for the next request: a chunked body would be answered as a request of
its own, unsigned. So every body is read to its end here, by exactly one framing, or refused
with the connection closed (where the next request starts is then unknown): both
Content-Length and Transfer-Encoding, two different lengths, a coding other than chunked, a
malformed chunk, or more than the limit. Every read is bounded.
"""

from __future__ import annotations

import re
from typing import Protocol

from voxform.emulator.submission import ApiError

MAX_LINE = 4096  # a chunk-size line or a trailer field
MAX_TRAILERS = 64
_LENGTH = re.compile(r"[0-9]{1,19}")  # int() would also take '+5', ' 5' and '5_0'
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(;[^\r\n]*)?\r?\n")


class Stream(Protocol):
    """What a body is read from (a handler's rfile)."""

    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


class Fields(Protocol):
    """A request's headers (an email Message, or the emulator's RequestHeaders)."""

    def get_all(self, name: str) -> list[str] | None: ...


class BodyError(ApiError):
    """A body that cannot be framed: answered, then the connection is closed."""


def _refuse(message: str, status: int = 400, code: str = "InvalidParameter") -> BodyError:
    return BodyError(status, code, message)


def read_body(headers: Fields, rfile: Stream, limit: int) -> bytes:
    """The whole body of a request with `headers`, read from `rfile` (at most `limit`
    bytes); BodyError when it is framed in a way this server does not read."""
    codings = headers.get_all("transfer-encoding") or []
    lengths = {value.strip() for value in headers.get_all("content-length") or []}
    if codings:
        if lengths:
            raise _refuse("A request must not have both Content-Length and Transfer-Encoding.")
        named = [c.strip().lower() for value in codings for c in value.split(",")]
        if named != ["chunked"]:
            raise _refuse("Transfer-Encoding must be chunked (alone).", 501, "NotImplemented")
        return _chunked(rfile, limit)
    if len(lengths) > 1:
        raise _refuse("Content-Length is given twice with different values.")
    length = lengths.pop() if lengths else "0"
    if not _LENGTH.fullmatch(length) or int(length) > limit:
        raise _refuse(f"Content-Length must be a number of bytes up to {limit}.")
    size = int(length)
    body = rfile.read(size) if size else b""
    if len(body) != size:
        raise _refuse("The body ended before its Content-Length.")
    return body


def _chunked(rfile: Stream, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = rfile.readline(MAX_LINE + 1)
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise _refuse("The chunked body has a malformed chunk size line.")
        size = int(match.group(1), 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise _refuse(f"The body is longer than {limit} bytes.")
        data = rfile.read(size)
        if len(data) != size or rfile.readline(3) not in (b"\r\n", b"\n"):
            raise _refuse("The chunked body has a chunk that does not end where its size says.")
        parts.append(data)
    for _ in range(MAX_TRAILERS + 1):  # trailer fields are read and ignored
        line = rfile.readline(MAX_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return b"".join(parts)
        if not line.endswith(b"\n") or b":" not in line:
            raise _refuse("The chunked body ends in a malformed trailer.")
    raise _refuse(f"The chunked body has more than {MAX_TRAILERS} trailer fields.")
