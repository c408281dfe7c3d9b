"""Reading a request's header block, as `http.server` does, without the email package.

`BaseHTTPRequestHandler.parse_request` hands the header block to the email package's
parser, which cost the emulator more CPU per call than verifying the call's signature. The
emulator stands in for the service in load tests on the same cores as the client, so its
CPU per call bounds what those tests measure. `parse_request` here does what the standard
library's does (same limits, same answers to a bad request) and reads the headers as the
email package's compat32 policy reads them: names as sent, values with leading blanks cut
and folded lines kept, a line that is not a header ending the block.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler

MAX_LINE = 65536  # http.client's limits, which http.server applies
MAX_HEADERS = 100

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # as the email parser splits
_PLAIN = re.compile(r"(?:[\041-\071\073-\176]+:[^\r\n]*\r\n)*\r\n")
_HEADER = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")  # the email parser's headerRE


class RequestHeaders:
    """A request's headers in order; `get` and `get_all` take a name in any case."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs
        self._first: dict[str, str] = {}
        for name, value in pairs:
            self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._first.get(name.lower(), default)

    def get_all(self, name: str) -> list[str] | None:
        wanted = name.lower()
        found = [value for key, value in self._pairs if key.lower() == wanted]
        return found or None

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first


class TooLarge(Exception):
    """A header line or a header count past the limits; `what` as http.server says it."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(detail)
        self.what = what


def read_headers(rfile: object) -> RequestHeaders:
    """The header block that follows the request line in `rfile`."""
    readline = rfile.readline  # type: ignore[attr-defined]
    lines: list[bytes] = []
    while True:
        line: bytes = readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise TooLarge(
                "Line too long", f"got more than {MAX_LINE} bytes when reading header line"
            )
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise TooLarge("Too many headers", f"got more than {MAX_HEADERS} headers")
        if line in (b"\r\n", b"\n", b""):
            break
    return parse_block(b"".join(lines).decode("iso-8859-1"))


def parse_block(text: str) -> RequestHeaders:
    """Headers from a header block, as the email package's compat32 parser reads them."""
    if _PLAIN.fullmatch(text):  # one `name:value` per CRLF line, as clients send them
        fields = (line.partition(":") for line in text.split("\r\n")[:-2])
        return RequestHeaders([(name, value.lstrip(" \t")) for name, _, value in fields])
    pairs: list[tuple[str, str]] = []
    current: list[str] = []  # the lines of the header being read

    def close() -> None:
        if current:
            name, _, value = current[0].partition(":")
            value = value.lstrip(" \t") + "".join(current[1:])
            pairs.append((name, value.rstrip("\r\n")))
            current.clear()

    for line in _LINE.findall(text):
        if not _HEADER.match(line):
            break  # the end of the block (or a line the parser takes for the body)
        if line[0] in " \t":
            if current:
                current.append(line)
            continue
        close()
        if line.startswith("From ") or line.find(":") == 0:
            continue  # an envelope line or a header without a name: passed over
        current.append(line)
    close()
    return RequestHeaders(pairs)


def parse_request(handler: BaseHTTPRequestHandler) -> bool:
    """`BaseHTTPRequestHandler.parse_request` with the header block read by `read_headers`:
    True when the request may be handled, else the error has been answered."""
    handler.command = None  # type: ignore[assignment]
    handler.request_version = version = handler.default_request_version
    handler.close_connection = True
    raw: bytes = handler.raw_requestline  # type: ignore[attr-defined]
    requestline = str(raw, "iso-8859-1").rstrip("\r\n")
    handler.requestline = requestline
    words = requestline.split()
    if not words:
        return False
    if len(words) >= 3:
        version = words[-1]
        try:
            if not version.startswith("HTTP/"):
                raise ValueError
            numbers = version.split("/", 1)[1].split(".")
            if len(numbers) != 2 or not all(n.isdigit() and len(n) <= 10 for n in numbers):
                raise ValueError
            number = int(numbers[0]), int(numbers[1])
        except (ValueError, IndexError):
            handler.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
            return False
        if number >= (1, 1) and handler.protocol_version >= "HTTP/1.1":
            handler.close_connection = False
        if number >= (2, 0):
            handler.send_error(
                HTTPStatus.HTTP_VERSION_NOT_SUPPORTED,
                f"Invalid HTTP version ({version.split('/', 1)[1]})",
            )
            return False
        handler.request_version = version
    if not 2 <= len(words) <= 3:
        handler.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
        return False
    command, path = words[:2]
    if len(words) == 2:
        handler.close_connection = True
        if command != "GET":
            handler.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
            return False
    handler.command, handler.path = command, path
    if handler.path.startswith("//"):
        handler.path = "/" + handler.path.lstrip("/")
    try:
        headers = read_headers(handler.rfile)
    except TooLarge as error:
        handler.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, error.what, str(error))
        return False
    handler.headers = headers  # type: ignore[assignment]
    connection = (headers.get("Connection") or "").lower()
    if connection == "close":
        handler.close_connection = True
    elif connection == "keep-alive" and handler.protocol_version >= "HTTP/1.1":
        handler.close_connection = False
    expect = (headers.get("Expect") or "").lower()
    if (
        expect == "100-continue"
        and handler.protocol_version >= "HTTP/1.1"
        and handler.request_version >= "HTTP/1.1"
    ):
        return handler.handle_expect_100()
    return True
