"""Keep-alive HTTP connections for RPC calls, one per thread that calls.

Apply makes thousands of small calls from a pool of threads. One shared connection pool made
every call queue on the pool's lock, and an HTTP stack written in Python (httpx over httpcore
and h11) cost half a millisecond of CPU per call, more than the service's whole budget at
2,000 calls per second. The standard library's `http.client` parses an answer in C-backed
code at a third of that, and a connection per thread needs no lock at all: a thread only
ever waits for its own answer.

Errors are split by what they mean for a call: no connection was made (`ConnectFailed`,
nothing was sent), or the request may have been sent and its answer never came
(`AnswerLost`, `AnswerTimedOut`), which for a submission means its fate is unknown.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message

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


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, read whole."""

    status: int
    headers: Message  # case-insensitive `get`
    body: bytes


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
        self._connect = connect
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._guard = threading.Lock()

    def send(self, method: str, target: str, headers: Mapping[str, str]) -> Answer:
        """Send a request with an empty body; its answer."""
        connection = self._ready()
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            if method != "GET":
                connection.putheader("content-length", "0")
            connection.endheaders()
            response = connection.getresponse()
            body = response.read()
        except TimeoutError as error:
            connection.close()
            raise AnswerTimedOut(error) from error
        except (OSError, http.client.HTTPException, ValueError) as error:
            # ValueError: a header value http.client refuses; nothing left, but nothing is
            # lost by treating it as a lost answer (the caller looks before it resends).
            connection.close()
            raise AnswerLost(error) from error
        if response.will_close:
            connection.close()
        return Answer(response.status, response.headers, body)

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
            connection = self._connect()
            self._local.connection = connection
            with self._guard:
                self._all.append(connection)
        if connection.sock is not None and _readable(connection.sock):
            connection.close()
        if connection.sock is None:
            try:
                connection.connect()
            except TimeoutError as error:
                connection.close()
                raise ConnectFailed(error, timed_out=True) from error
            except OSError as error:  # refused, unreachable, no such host, TLS (SSLError)
                connection.close()
                raise ConnectFailed(error) from error
        return connection


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
