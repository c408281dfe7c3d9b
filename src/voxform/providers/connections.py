"""Keep-alive HTTP connections for RPC calls, one per thread that calls.

Apply makes thousands of small calls from a pool of threads. One shared connection pool made
every call queue on the pool's lock, and an HTTP stack written in Python (httpx over httpcore
and h11) cost half a millisecond of CPU per call, more than the service's whole budget at
2,000 calls per second. A connection per thread needs no lock at all: a thread only ever
waits for its own answer. The standard library's `http.client` makes the connection (TLS
included); the request is written in one piece and the answer read here (`request_bytes`,
`read_answer`): http.client checks each header with two regular expressions and hands the
answer's header block to the email package's parser, which together cost more CPU than the
rest of the call; an RPC call needs only a status, a few headers by name and a body.

Errors are split by what they mean for a call: no connection was made (`ConnectFailed`,
nothing was sent), or the request may have been sent and its answer never came
(`AnswerLost`, `AnswerTimedOut`), which for a submission means its fate is unknown.
"""

from __future__ import annotations

import http.client
import re
import select
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Connect = Callable[[], http.client.HTTPConnection]


class ConnectFailed(Exception):
    """No connection to the endpoint (refused, unknown host, TLS refused): nothing was sent.
    `timed_out` when it took longer than the timeout."""

    def __init__(self, error: Exception, *, timed_out: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.timed_out = timed_out


class AnswerLost(Exception):
    """The request may have been sent; the connection failed before its whole answer came."""

    def __init__(self, error: Exception) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


class AnswerTimedOut(AnswerLost):
    """The request may have been sent; no answer within the timeout."""


class Headers(dict[str, str]):
    """An answer's headers by lower-case name (the first of a repeated one); `get` takes a
    name in any case."""

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, read whole."""

    status: int
    headers: Headers
    body: bytes


class BadAnswer(http.client.HTTPException):
    """An answer that breaks HTTP/1.1 (or passes the limits below)."""


MAX_HEAD = 65536  # bytes of status line and headers, as http.client's line limit
MAX_HEADERS = 100  # as http.client
MAX_BODY = 1 << 26  # an RPC answer is kilobytes; a page of 100 listed jobs a few hundred
_READ = 65536
# A control character (a CR or LF would start a header of its own) in a value or target;
# a header name is a token.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def connector(scheme: str, host: str, port: int | None, timeout: float) -> Connect:
    """A function making one (unconnected) connection to the endpoint; for https, with one
    verifying TLS context shared by all of them (making a context reads the CA store)."""
    if scheme == "https":
        context = ssl.create_default_context()
        return lambda: http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return lambda: http.client.HTTPConnection(host, port, timeout=timeout)


class Connections:
    """A keep-alive connection per calling thread, made on first use and remade after any
    failure; `close()` closes them all."""

    def __init__(self, connect: Connect) -> None:
        self.connect = connect
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._guard = threading.Lock()

    def send(self, method: str, target: str, headers: Mapping[str, str]) -> Answer:
        """Send a request with an empty body; its answer."""
        return self.exchange(wire_request(method, target, headers))

    def exchange(self, request: bytes) -> Answer:
        """Send a request as it goes on the wire (`wire_request`); its answer."""
        connection = self._ready()
        try:
            sock = connection.sock
            if sock is None:
                raise BadAnswer("the connection closed before the request")
            sock.sendall(request)
            answer, will_close = read_answer(sock)
        except TimeoutError as error:
            connection.close()
            raise AnswerTimedOut(error) from error
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise AnswerLost(error) from error
        if will_close:
            connection.close()
        return answer

    def close(self) -> None:
        """Close every connection made (threads still calling get an error)."""
        with self._guard:
            made, self._all = self._all, []
        for connection in made:
            connection.close()

    def _ready(self) -> http.client.HTTPConnection:
        """This thread's connection, connected; one the server has closed (or that has an
        answer nobody asked for waiting) is replaced first."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.connect()
            self._local.connection = connection
            with self._guard:
                self._all.append(connection)
        if connection.sock is not None and _readable(connection.sock):
            connection.close()
        if connection.sock is None:
            connect(connection)
        return connection


def connect(connection: http.client.HTTPConnection) -> None:
    """Connect `connection` (TLS included); ConnectFailed, the connection closed, if not."""
    try:
        connection.connect()
    except TimeoutError as error:
        connection.close()
        raise ConnectFailed(error, timed_out=True) from error
    except OSError as error:  # refused, unreachable, no such host, TLS (SSLError)
        connection.close()
        raise ConnectFailed(error) from error


def _readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the server closed it (or broke
    the protocol), so it must not carry the next request."""
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def wire_request(method: str, target: str, headers: Mapping[str, str]) -> bytes:
    """`request_bytes`, or AnswerLost for what cannot be sent: nothing was, but the caller
    looks before it sends again."""
    try:
        return request_bytes(method, target, headers)
    except ValueError as error:
        raise AnswerLost(error) from error


def request_bytes(method: str, target: str, headers: Mapping[str, str]) -> bytes:
    """A request with an empty body as it goes on the wire (the caller names `host`);
    ValueError, before anything is sent, for a character that would end a line or a
    header early (as http.client refuses it)."""
    if _CONTROL.search("\t".join([target, *headers.values()])) or " " in target:
        bad = [n for n, v in headers.items() if _CONTROL.search(v)] or ["the request target"]
        raise ValueError(f"a control character in {bad[0]}, which cannot be sent")
    if _NAME.fullmatch("".join(headers)) is None:
        raise ValueError(f"a header name that cannot be sent among {', '.join(headers)!r}")
    lines = [f"{method} {target} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method != "GET":
        lines.append("content-length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket) -> tuple[Answer, bool]:
    """One HTTP/1.1 answer read whole from `sock` (interim 1xx answers skipped), and whether
    the connection must close after it; BadAnswer, OSError or TimeoutError otherwise."""
    data = bytearray()
    while True:
        while (end := data.find(b"\r\n\r\n")) < 0:
            if len(data) > MAX_HEAD:
                raise BadAnswer(f"an answer's header block is longer than {MAX_HEAD} bytes")
            _more(sock, data)
        status, headers, version = _head(data[:end].decode("iso-8859-1"))
        del data[: end + 4]
        if not 100 <= status < 200:
            break
    connection = (headers.get("connection") or "").lower()
    will_close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    coding = headers.get("transfer-encoding")
    if status in (204, 304):
        body = b""
    elif coding is not None:
        if coding.strip().lower() != "chunked":
            raise BadAnswer(f"unknown transfer-encoding {coding[:40]!r}")
        body = _chunked(sock, data)
    elif (length := headers.get("content-length")) is not None:
        if not length.isdigit() or int(length) > MAX_BODY:
            raise BadAnswer(f"content-length {length[:40]!r}")
        size = int(length)
        while len(data) < size:
            _more(sock, data)
        body = bytes(data[:size])
        del data[:size]
    else:  # till the server closes the connection
        while len(data) <= MAX_BODY and (chunk := sock.recv(_READ)):
            data += chunk
        if len(data) > MAX_BODY:
            raise BadAnswer(f"an answer longer than {MAX_BODY} bytes")
        body, will_close = bytes(data), True
        data.clear()
    # Bytes past the answer were never asked for: the connection cannot carry another call.
    return Answer(status, headers, body), will_close or bool(data)


class Incomplete(Exception):
    """More of the answer is still to come."""


class _Received:
    """What a connection has received so far, read as a socket would be: when it is all
    read, the end of the connection (`ended`), else Incomplete."""

    def __init__(self, data: bytes | bytearray, ended: bool) -> None:
        self._data, self._ended = memoryview(data), ended

    def recv(self, size: int) -> bytes:
        if not self._data:
            if self._ended:
                return b""
            raise Incomplete
        chunk, self._data = bytes(self._data[:size]), self._data[size:]
        return chunk


def answer_of(data: bytes | bytearray, *, ended: bool) -> tuple[Answer, bool]:
    """`read_answer` of the bytes a connection has received (`ended`: and then it closed);
    Incomplete while more is to come."""
    return read_answer(_Received(data, ended))  # type: ignore[arg-type]


def _more(sock: socket.socket, data: bytearray) -> None:
    """Append what `sock` has next to `data`; RemoteDisconnected when it has closed."""
    chunk = sock.recv(_READ)
    if not chunk:
        raise http.client.RemoteDisconnected("the server closed the connection mid-answer")
    data += chunk


def _head(block: str) -> tuple[int, Headers, str]:
    """(status, headers, HTTP version) of an answer's header block. Lines that are not a
    header are passed over, a folded line continues the header before it."""
    lines = block.split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise BadAnswer(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
    if len(lines) > MAX_HEADERS + 1:
        raise BadAnswer(f"more than {MAX_HEADERS} headers")
    pairs: list[list[str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and pairs:
            pairs[-1][1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if colon and name and name == name.strip():
            pairs.append([name.lower(), value])
    headers = Headers()
    for name, value in pairs:
        headers.setdefault(name, value.strip())
    return int(code), headers, version


def _chunked(sock: socket.socket, data: bytearray) -> bytes:
    """A chunked body read from `data` and then `sock`; what follows it stays in `data`."""
    body = bytearray()
    while True:
        while (end := data.find(b"\r\n")) < 0:
            if len(data) > MAX_HEAD:
                raise BadAnswer("a chunk size line that does not end")
            _more(sock, data)
        line = bytes(data[:end]).split(b";", 1)[0].strip()
        if not line or any(c not in b"0123456789abcdefABCDEF" for c in line):
            raise BadAnswer(f"a chunk size {line[:20]!r}")
        chunk = int(line, 16)
        if len(body) + chunk > MAX_BODY:
            raise BadAnswer(f"an answer longer than {MAX_BODY} bytes")
        del data[: end + 2]
        if chunk == 0:
            break
        while len(data) < chunk + 2:
            _more(sock, data)
        if data[chunk : chunk + 2] != b"\r\n":
            raise BadAnswer("a chunk that does not end in CRLF")
        body += data[:chunk]
        del data[: chunk + 2]
    while (end := data.find(b"\r\n")) != 0:  # trailers, then the empty line
        if end > 0:
            del data[: end + 2]
        elif len(data) > MAX_HEAD:
            raise BadAnswer("chunked trailers that do not end")
        else:
            _more(sock, data)
    del data[:2]
    return bytes(body)
