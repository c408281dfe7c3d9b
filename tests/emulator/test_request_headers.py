"""The emulator reads a request's headers itself (emulator/request.py): the same headers, in
the same order and with the same values, as http.server's parser (the email package) reads
from the same bytes, for ordinary blocks and odd ones."""

from __future__ import annotations

import http.client
import io
import random

import pytest

from voxform.emulator.request import TooLarge, read_headers

BLOCKS = [
    b"Host: 127.0.0.1\r\nX-Acs-Action: GetSmartHandleJob\r\nContent-Length: 0\r\n\r\n",
    b"host: a\r\nHOST: b\r\nx-acs-date:2024-01-01T00:00:00Z\r\n\r\n",  # repeated, no blank
    b"X-Folded: one\r\n two\r\n\tthree\r\nNext: n\r\n\r\n",  # folded lines kept
    b"X-Lone: a\rb\r\nAfter: x\r\n\r\n",  # a lone CR ends a line for the email parser
    b"Good: 1\r\nno colon here\r\nLater: 2\r\n\r\n",  # not a header: the block ends
    b"Good: 1\r\nBad Name: 2\r\nLater: 3\r\n\r\n",  # a space in a name: the block ends
    b" leading: blank\r\nAfter: 1\r\n\r\n",  # a continuation with nothing to continue
    b"From someone\r\nX: 1\r\n:nameless\r\nY: 2\r\n\r\n",  # envelope and nameless lines
    b"X:   padded   \r\nY:\r\nZ: \t\r\n\r\n",  # blanks around values
    b"X: caf\xc3\xa9 \xff\r\n\n",  # bytes past ASCII, a bare LF ending the block
    b"X: 1\n Y: 2\nZ: 3\n\n",
    b"",
]


def email_read(data: bytes) -> list[tuple[str, str]]:
    return list(http.client.parse_headers(io.BytesIO(data)).items())


@pytest.mark.parametrize("data", BLOCKS)
def test_headers_are_read_as_the_email_parser_reads_them(data: bytes) -> None:
    ours = read_headers(io.BytesIO(data))
    assert ours.items() == email_read(data)
    theirs = http.client.parse_headers(io.BytesIO(data))
    for name in {n.lower() for n, _ in ours.items()} | {"absent"}:
        assert ours.get(name.upper()) == theirs.get(name)
        assert ours.get_all(name) == theirs.get_all(name)


def test_random_blocks_of_header_like_lines_read_the_same() -> None:
    rng = random.Random(14)
    pieces = [b"A: 1", b"a: 2", b" cont", b"\tcont", b"B:x", b"junk", b":v", b"From x", b"C: \r"]
    for _ in range(500):
        lines = [
            rng.choice(pieces) + rng.choice([b"\r\n", b"\n"]) for _ in range(rng.randint(0, 6))
        ]
        data = b"".join(lines) + b"\r\n"
        assert read_headers(io.BytesIO(data)).items() == email_read(data), data


def test_the_standard_librarys_limits_hold() -> None:
    with pytest.raises(TooLarge, match="65536 bytes"):
        read_headers(io.BytesIO(b"X: " + b"a" * 70000 + b"\r\n\r\n"))
    with pytest.raises(TooLarge, match="more than 100 headers"):
        read_headers(io.BytesIO(b"X: 1\r\n" * 101 + b"\r\n"))
    assert len(read_headers(io.BytesIO(b"X: 1\r\n" * 99 + b"\r\n")).items()) == 99
