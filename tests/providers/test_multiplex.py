"""Many calls from one thread on non-blocking connections (providers/multiplex.py): every
answer reaches its call, connections are kept and bounded, and failures mean what they mean
for a thread's own connection (ConnectFailed, AnswerLost, AnswerTimedOut), over TLS too."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from providers.test_oss_tls import self_signed
from voxform.providers.connections import (
    Answer,
    AnswerLost,
    AnswerTimedOut,
    ConnectFailed,
    connector,
    request_bytes,
)
from voxform.providers.multiplex import Multiplexer

Reply = Callable[[str], bytes | None]  # a request's target -> what to send back (None: hang)


def ok(target: str) -> bytes:
    body = target.encode()
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


class Server:
    """Answers requests on keep-alive connections as `reply` says (hanging up after those to
    targets in `hang_up`); counts connections."""

    def __init__(
        self,
        reply: Reply,
        context: ssl.SSLContext | None = None,
        hang_up: frozenset[str] = frozenset(),
    ) -> None:
        self.reply = reply
        self.hang_up = hang_up
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.open: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.threads.append(threading.Thread(target=self._serve, args=(sock,), daemon=True))
            self.threads[-1].start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_side=True)
            self.open.append(sock)
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, data = data.split(b"\r\n\r\n", 1)
                target = head.split(b" ")[1].decode()
                answer = self.reply(target)
                if answer is None:  # no answer: wait for the client to give up
                    sock.recv(1)
                    return
                sock.sendall(answer)
                if target in self.hang_up:
                    return
        except OSError:
            return
        finally:
            sock.close()

    def close(self) -> None:
        """Stop, every thread ended (a thread left running would change what later tests in
        this process see: a plan renders in one process while another thread runs)."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # ends the accept under way
        self.listener.close()
        for sock in self.open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in self.threads:
            thread.join(timeout=10)


@pytest.fixture
def mux() -> Iterator[Multiplexer]:
    openers: list[threading.Thread] = []

    def opener(work: Callable[[], None]) -> None:
        openers.append(threading.Thread(target=work, daemon=True))
        openers[-1].start()

    made = Multiplexer(opener)
    yield made
    made.close()
    for thread in openers:
        thread.join(timeout=10)


def request(target: str) -> bytes:
    return request_bytes("POST", target, {"host": "127.0.0.1"})


def gather(mux: Multiplexer, count: int, limit: float = 10.0) -> dict[object, Answer | Exception]:
    """`count` ends, by context (polling with a deadline)."""
    ended: dict[object, Answer | Exception] = {}
    deadline = time.monotonic() + limit
    while len(ended) < count and time.monotonic() < deadline:
        ended.update(mux.wait(0.2))
    assert len(ended) == count, ended
    return ended


def test_many_calls_at_once_each_get_their_own_answer_on_few_kept_connections(
    mux: Multiplexer,
) -> None:
    server = Server(ok)
    mux.add("ice", connector("http", "127.0.0.1", server.port, 5), 5, 4)
    for n in range(50):
        mux.send("ice", request(f"/call/{n}"), n)
    ended = gather(mux, 50)
    assert {n: a.body for n, a in ended.items() if isinstance(a, Answer)} == {
        n: f"/call/{n}".encode() for n in range(50)
    }
    for n in range(50, 60):  # the kept connections carry more calls
        mux.send("ice", request(f"/call/{n}"), n)
    gather(mux, 10)
    assert server.connections <= 4
    server.close()


def test_an_answer_in_pieces_is_read_whole(mux: Multiplexer) -> None:
    pieces = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )

    def slow(sock: socket.socket) -> None:
        sock.recv(65536)
        for n in range(len(pieces)):
            sock.send(pieces[n : n + 1])
            time.sleep(0.001)

    listener = socket.create_server(("127.0.0.1", 0))
    server = threading.Thread(target=lambda: slow(listener.accept()[0]), daemon=True)
    server.start()
    mux.add("ice", connector("http", "127.0.0.1", listener.getsockname()[1], 5), 5, 4)
    mux.send("ice", request("/"), "one")
    answer = gather(mux, 1)["one"]
    assert isinstance(answer, Answer) and answer.body == b"abcde"
    listener.close()
    server.join(timeout=10)


def test_a_refused_connection_is_connect_failed_and_nothing_was_sent(mux: Multiplexer) -> None:
    free = socket.create_server(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    mux.add("ice", connector("http", "127.0.0.1", port, 5), 5, 4)
    mux.send("ice", request("/"), "one")
    error = gather(mux, 1)["one"]
    assert isinstance(error, ConnectFailed) and not error.timed_out


def test_an_answer_that_never_comes_times_out_and_one_cut_short_is_lost(
    mux: Multiplexer,
) -> None:
    def reply(target: str) -> bytes | None:
        if target == "/hang":
            return None
        return b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"

    server = Server(reply, hang_up=frozenset({"/short"}))
    mux.add("ice", connector("http", "127.0.0.1", server.port, 0.3), 0.3, 4)
    mux.send("ice", request("/hang"), "hang")
    mux.send("ice", request("/short"), "short")
    ended = gather(mux, 2)
    assert isinstance(ended["hang"], AnswerTimedOut)
    assert isinstance(ended["short"], AnswerLost) and not isinstance(ended["short"], AnswerTimedOut)
    server.close()


def test_an_idle_connection_the_server_closed_is_replaced(mux: Multiplexer) -> None:
    server = Server(ok)
    mux.add("ice", connector("http", "127.0.0.1", server.port, 5), 5, 1)
    mux.send("ice", request("/a"), "a")
    gather(mux, 1)
    for sock in server.open:
        sock.shutdown(socket.SHUT_RDWR)
    mux.wait(0.2)  # the idle connection's end is seen
    mux.send("ice", request("/b"), "b")
    answer = gather(mux, 1)["b"]
    assert isinstance(answer, Answer) and answer.body == b"/b"
    assert server.connections == 2
    server.close()


def test_calls_go_over_tls_and_a_certificate_nobody_vouches_for_is_refused(
    mux: Multiplexer, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Server(ok, context)
    trusting = ssl.create_default_context(cafile=str(cert))

    def trusted() -> http.client.HTTPConnection:
        return http.client.HTTPSConnection("127.0.0.1", server.port, timeout=5, context=trusting)

    mux.add("trusted", trusted, 5, 2)
    mux.add("default", connector("https", "127.0.0.1", server.port, 5), 5, 2)
    for n in range(6):
        mux.send("trusted", request(f"/tls/{n}"), n)
    mux.send("default", request("/tls"), "default")
    ended = gather(mux, 7)
    assert {n: a.body for n, a in ended.items() if isinstance(a, Answer)} == {
        n: f"/tls/{n}".encode() for n in range(6)
    }
    refused = ended["default"]
    assert isinstance(refused, ConnectFailed)
    assert isinstance(refused.error, ssl.SSLError)
    server.close()
