"""Request bodies framed by chunks, on a raw socket: read as one body, never as a request.

A server that reads no chunked body leaves it on the connection, where it is parsed as the
next request: unsigned, and answered as if the client had sent it.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from voxform.emulator.http import MAX_BODY
from voxform.emulator.service import Emulator
from voxform.ice.signing import sign_request

FORM = b"JobType=TextToSpeech&MaxResults=5"
STATS = b"GET /_emulator/stats HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n"


def _signed_list(emulator: Emulator, body: bytes) -> tuple[str, dict[str, str]]:
    """A ListSmartJobs POST whose parameters (and signature) are in `body`."""
    signed = sign_request(
        method="POST",
        host=urlsplit(emulator.url).netloc,
        action="ListSmartJobs",
        version="2020-11-09",
        params={},
        body=body,
        access_key_id="testid",
        access_key_secret="testsecret",
        security_token=None,
    )
    return signed.path, signed.headers


def _request(path: str, headers: dict[str, str], framing: str, body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items()), framing]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


def _chunks(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def _exchange(emulator: Emulator, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """Send `data` on one connection; every answer until the server closes it."""
    address = urlsplit(emulator.url)
    assert address.hostname is not None and address.port is not None
    with socket.create_connection((address.hostname, address.port), timeout=20) as sock:
        sock.sendall(data)
        received = bytearray()
        while chunk := sock.recv(65536):  # the server closes: Connection: close, or a refusal
            received += chunk
    return _answers(bytes(received))


def _answers(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The HTTP answers in `data`, one after another, each framed by its Content-Length."""
    answers: list[tuple[int, dict[str, Any]]] = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
        length = int(headers.get("content-length", len(rest)))
        body, data = rest[:length], rest[length:]
        try:
            document = json.loads(body or b"{}")
        except ValueError:  # http.server's own HTML error page
            document = {"page": body.decode(errors="replace")}
        answers.append((int(status_line.split()[1]), document))
    return answers


def test_a_chunked_body_is_read_as_the_body_of_its_request(emulator: Emulator) -> None:
    path, headers = _signed_list(emulator, FORM)
    sent = _request(path, headers, "Transfer-Encoding: chunked", _chunks(FORM[:7], FORM[7:]))
    answers = _exchange(emulator, sent + STATS)
    assert [status for status, _ in answers] == [200, 200], answers
    listing, stats = (body for _, body in answers)
    assert listing["SmartJobList"] == [] and "MaxResults" in listing
    assert stats["calls"] == {
        "SubmitAudioProduceJob": 0,
        "GetSmartHandleJob": 0,
        "ListSmartJobs": 1,
    }


def test_a_request_inside_a_chunked_body_is_not_answered(emulator: Emulator) -> None:
    """The body is data: the request spelt in it must not be served."""
    path, headers = _signed_list(emulator, STATS)
    sent = _request(path, headers, "Transfer-Encoding: chunked", _chunks(STATS))
    answers = _exchange(emulator, sent + STATS)
    assert len(answers) == 2, answers
    assert answers[0][0] == 200 and "SmartJobList" in answers[0][1]  # one call, its body read
    assert answers[1][0] == 200 and answers[1][1]["calls"]["ListSmartJobs"] == 1


@pytest.mark.parametrize(
    ("framing", "body"),
    [
        ("Transfer-Encoding: chunked", b"zz\r\nabc\r\n0\r\n\r\n"),  # not a hex size
        ("Transfer-Encoding: chunked", b"3\r\nabcdef\r\n0\r\n\r\n"),  # longer than its size
        ("Transfer-Encoding: chunked", b"%x\r\n" % (MAX_BODY + 1)),  # over the limit
        ("Transfer-Encoding: gzip, chunked", _chunks(b"abc")),  # a coding not read
        ("Transfer-Encoding: chunked\r\nContent-Length: 3", _chunks(b"abc")),  # both framings
        ("Content-Length: 3\r\nContent-Length: 40", b"abc" + STATS),  # two lengths
        ("Content-Length: +3", b"abc"),  # what int() takes but HTTP does not
    ],
    ids=["bad-size", "overlong-chunk", "over-limit", "gzip", "both", "two-lengths", "plus"],
)
def test_a_body_framed_otherwise_is_refused_and_the_connection_closed(
    emulator: Emulator, framing: str, body: bytes
) -> None:
    path, headers = _signed_list(emulator, b"")
    answers = _exchange(emulator, _request(path, headers, framing, body) + STATS)
    assert len(answers) == 1, answers  # nothing after the refusal is taken for a request
    status, answer = answers[0]
    assert status in (400, 501) and answer["Code"] in ("InvalidParameter", "NotImplemented")


def test_a_body_sent_with_a_get_of_the_stats_is_not_a_second_request(
    emulator: Emulator,
) -> None:
    get = b"GET /_emulator/stats HTTP/1.1\r\nHost: emulator\r\nContent-Length: %d\r\n\r\n"
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: emulator\r\n\r\n"
    answers = _exchange(emulator, get % len(smuggled) + smuggled + STATS)
    assert [status for status, _ in answers] == [200, 200], answers
