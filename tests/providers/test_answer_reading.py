"""The ICE client reads each answer itself (connections.read_answer): what a server may
send on a kept-alive connection, byte by byte or all at once, read as http.client would."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator

import pytest

from voxform.providers.connections import BadAnswer, read_answer


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    client.settimeout(5)
    yield server, client
    server.close()
    client.close()


def send(server: socket.socket, data: bytes, *, piecewise: bool = False) -> threading.Thread:
    """Write `data` from another thread (one byte at a time when `piecewise`)."""

    def write() -> None:
        with contextlib.suppress(OSError):
            _write()

    def _write() -> None:
        if piecewise:
            for n in range(len(data)):
                server.send(data[n : n + 1])
        else:
            server.sendall(data)

    thread = threading.Thread(target=write)
    thread.start()
    return thread


ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
    b"X-Acs-Retry-After: 1500\r\nContent-Length: 14\r\n\r\n"
    b'{"Code":"Thr"}'
)


@pytest.mark.parametrize("piecewise", [False, True])
def test_an_answer_with_a_length_is_read_whole_and_keeps_the_connection(
    pair: tuple[socket.socket, socket.socket], piecewise: bool
) -> None:
    server, client = pair
    send(server, ANSWER, piecewise=piecewise).join(timeout=10)

    answer, close = read_answer(client)

    assert (answer.status, answer.body, close) == (400, b'{"Code":"Thr"}', False)
    assert answer.headers.get("x-acs-retry-after") == "1500"
    assert answer.headers.get("Content-Type") == "application/json"  # any letter case
    assert answer.headers.get("date") is None


def test_a_chunked_answer_after_a_100_continue_is_joined(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    send(
        server,
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
        piecewise=True,
    ).join(timeout=10)

    answer, close = read_answer(client)

    assert (answer.status, answer.body, close) == (200, b"hello, world", False)


def test_connection_close_an_old_version_or_bytes_past_the_answer_close_it(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    server.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
    assert read_answer(client)[1] is True
    server.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    assert read_answer(client)[1] is True
    server.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200")
    assert read_answer(client)[1] is True


def test_an_answer_without_a_length_ends_with_the_connection(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    server.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>")
    server.shutdown(socket.SHUT_WR)

    answer, close = read_answer(client)

    assert (answer.status, answer.body, close) == (502, b"<html>", True)


@pytest.mark.parametrize(
    "data",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",  # not HTTP
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000,  # a header block that never ends
    ],
)
def test_an_answer_that_breaks_http_is_refused(
    pair: tuple[socket.socket, socket.socket], data: bytes
) -> None:
    server, client = pair
    writer = send(server, data)
    with pytest.raises(BadAnswer):
        read_answer(client)
    client.close()  # a writer still blocked on a full buffer fails and ends
    writer.join(timeout=10)


def test_a_connection_closed_mid_answer_is_an_error_not_a_short_body(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    server.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")
    server.shutdown(socket.SHUT_WR)
    with pytest.raises(http.client.RemoteDisconnected):
        read_answer(client)
