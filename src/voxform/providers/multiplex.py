"""Many RPC calls at once from one thread: keep-alive connections in non-blocking mode,
watched by one selector (epoll), each carrying one call at a time.

A thread per call made apply pay for every call twice over in thread hand-offs: the call to
a worker, its end back to the scheduler, and the lock every thread takes to run Python
between (futex waits and wake-ups, a fifth of the client's CPU at 2,000 calls a second).
Here the thread that decides the calls also sends them and reads their answers, in one
`wait`. Only making a connection (a TCP connect, and for https the TLS handshake, which may
take as long as the timeout) runs on another thread, handed in by `opener`: connections are
made once and kept. Errors mean what they mean for `Connections`: `ConnectFailed` (nothing
was sent), `AnswerLost` or `AnswerTimedOut` (the request may have been sent).
"""

from __future__ import annotations

import contextlib
import http.client
import queue
import selectors
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from voxform.providers.connections import (
    Answer,
    AnswerLost,
    AnswerTimedOut,
    Connect,
    ConnectFailed,
    Incomplete,
    answer_of,
    connect,
)

Opener = Callable[[Callable[[], None]], None]  # runs a function on another thread
Ended = tuple[object, Answer | Exception]  # a call's context, and its answer or failure
_READ = 65536
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


@dataclass
class _Call:
    wire: bytes
    context: object


@dataclass(eq=False)
class _Origin:
    """Where calls go: how to connect, and the connections open or being made."""

    connect: Connect
    timeout: float
    limit: int
    count: int = 0  # connections open or being made
    idle: list[_Link] = field(default_factory=list)
    waiting: deque[_Call] = field(default_factory=deque)  # calls for a connection to free


@dataclass(eq=False)
class _Link:
    """One connection, idle or carrying one call."""

    origin: _Origin
    connection: http.client.HTTPConnection
    sock: socket.socket
    call: _Call | None = None
    out: memoryview = field(default_factory=lambda: memoryview(b""))
    data: bytearray = field(default_factory=bytearray)
    deadline: float = 0.0
    closed: bool = False


class Multiplexer:
    """Calls to any number of origins (`add`), sent by `send` and ended by `wait`, all on
    one thread; `wake` (from any thread) ends a `wait` early."""

    def __init__(self, opener: Opener, clock: Callable[[], float] = time.monotonic) -> None:
        self._opener = opener
        self._clock = clock
        self._selector = selectors.DefaultSelector()
        self._origins: dict[Hashable, _Origin] = {}
        self._busy: set[_Link] = set()
        self._made: queue.SimpleQueue[tuple[_Call, _Origin, object]] = queue.SimpleQueue()
        self._ended: list[Ended] = []
        self._wake_in, self._wake_out = socket.socketpair()
        for end in (self._wake_in, self._wake_out):
            end.setblocking(False)
        self._selector.register(self._wake_out, selectors.EVENT_READ, None)
        self._closed = False

    def add(self, origin: Hashable, connect: Connect, timeout: float, limit: int) -> None:
        """Calls to `origin` go on at most `limit` connections `connect` makes; `timeout`:
        seconds for a connection to be made, and between an answer's bytes."""
        self._origins[origin] = _Origin(connect, timeout, max(1, limit))

    def send(self, origin: Hashable, wire: bytes, context: object) -> None:
        """Send `wire` (a whole request) to `origin`; its end comes from `wait` with
        `context`. It waits for a connection when `limit` of them carry calls."""
        self._next(self._origins[origin], _Call(wire, context))

    def _next(self, origin: _Origin, call: _Call | None = None) -> None:
        """Send `call`, or the oldest waiting one, on an idle connection or a new one."""
        if call is not None and origin.waiting:
            origin.waiting.append(call)
            call = None
        if call is None:
            if not origin.waiting:
                return
            if not origin.idle and origin.count >= origin.limit:
                return
            call = origin.waiting.popleft()
        if origin.idle:
            self._carry(origin.idle.pop(), call)
        elif origin.count < origin.limit:
            origin.count += 1
            self._opener(lambda: self._open(call, origin))
        else:
            origin.waiting.append(call)

    def wake(self) -> None:
        """End a `wait` under way, or the next one, at once (from any thread)."""
        with contextlib.suppress(OSError):  # full: a wake-up is pending anyway
            self._wake_in.send(b"\0")

    def wait(self, timeout: float) -> list[Ended]:
        """Calls that have ended, waiting up to `timeout` seconds for the first (less when a
        call's answer is due sooner, or `wake` is called)."""
        self._take_made()
        now = self._clock()
        if self._ended:
            timeout = 0.0
        elif self._busy:
            timeout = min(timeout, max(0.0, min(link.deadline for link in self._busy) - now))
        for key, events in self._selector.select(max(0.0, timeout)):
            link = key.data
            if link is None:
                with contextlib.suppress(OSError):
                    while self._wake_out.recv(4096):
                        pass
                continue
            if events & selectors.EVENT_WRITE and link.call is not None:
                self._write(link)
            if events & selectors.EVENT_READ:
                self._read(link)
        self._take_made()
        now = self._clock()
        for link in [link for link in self._busy if link.deadline <= now]:
            self._fail(link, AnswerTimedOut(TimeoutError("timed out")))
        ended, self._ended = self._ended, []
        return ended

    def close(self) -> None:
        """Close every connection (calls under way never end) and the selector."""
        self._closed = True
        links = [*self._busy, *(link for o in self._origins.values() for link in o.idle)]
        for link in links:
            self._drop(link)
        self._selector.close()
        self._wake_in.close()
        self._wake_out.close()

    # -- on the opener's thread --------------------------------------------------------

    def _open(self, call: _Call, origin: _Origin) -> None:
        connection = origin.connect()
        made: object = connection
        try:
            connect(connection)
        except ConnectFailed as error:
            made = error
        self._made.put((call, origin, made))
        self.wake()

    # -- on the calling thread ---------------------------------------------------------

    def _take_made(self) -> None:
        while True:
            try:
                call, origin, made = self._made.get_nowait()
            except queue.Empty:
                return
            sock = made.sock if isinstance(made, http.client.HTTPConnection) else None
            if not isinstance(made, http.client.HTTPConnection) or sock is None:
                origin.count -= 1
                error = made if isinstance(made, Exception) else ConnectFailed(OSError("closed"))
                self._ended.append((call.context, error))
                self._next(origin)
                continue
            sock.setblocking(False)
            link = _Link(origin, made, sock)
            self._selector.register(sock, selectors.EVENT_READ, link)
            self._carry(link, call)

    def _carry(self, link: _Link, call: _Call) -> None:
        link.call, link.out = call, memoryview(call.wire)
        link.data = bytearray()
        link.deadline = self._clock() + link.origin.timeout
        self._busy.add(link)
        self._write(link)

    def _write(self, link: _Link) -> None:
        try:
            sent = link.sock.send(link.out)
        except _WOULD_BLOCK:
            sent = 0
        except OSError as error:
            self._fail(link, AnswerLost(error))
            return
        link.out = link.out[sent:]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if link.out else 0)
        if self._selector.get_key(link.sock).events != events:
            self._selector.modify(link.sock, events, link)

    def _read(self, link: _Link) -> None:
        ended = False
        try:
            while chunk := link.sock.recv(_READ):
                link.data += chunk
                if len(chunk) < _READ and not isinstance(link.sock, ssl.SSLSocket):
                    break  # all there is (TLS may hold more decrypted: read till it blocks)
            else:
                ended = True
        except _WOULD_BLOCK:
            pass
        except OSError as error:
            if link.call is None:
                self._drop(link)
            else:
                self._fail(link, AnswerLost(error))
            return
        if link.call is None:  # an idle connection the server closed (or wrote to)
            self._drop(link)
            return
        link.deadline = self._clock() + link.origin.timeout
        try:
            answer, close = answer_of(link.data, ended=ended)
        except Incomplete:
            return
        except (OSError, http.client.HTTPException) as error:
            self._fail(link, AnswerLost(error))
            return
        self._ended.append((link.call.context, answer))
        self._busy.discard(link)
        link.call, link.data = None, bytearray()
        if close or link.out:
            self._drop(link)
        else:
            link.origin.idle.append(link)
            self._next(link.origin)

    def _fail(self, link: _Link, error: Exception) -> None:
        if link.call is not None:
            self._ended.append((link.call.context, error))
        self._drop(link)

    def _drop(self, link: _Link) -> None:
        """Close a connection; a call waiting for one gets a new one."""
        if link.closed:
            return
        link.closed = True
        self._busy.discard(link)
        link.call = None
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(link.sock)
        link.connection.close()
        origin = link.origin
        if link in origin.idle:
            origin.idle.remove(link)
        origin.count -= 1
        if not self._closed:
            self._next(origin)
