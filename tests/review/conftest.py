"""One headless Chromium for the review page's browser tests, and static servers.

Chromium is the system's, as tests/browser.py finds it, driven by playwright-python (never
`playwright install`: the browser is the OS package); without it the browser tests are
skipped, saying why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from browser import find_chromium, skip_reason


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless system Chromium for the session (skipped, saying why, without one)."""
    reason = skip_reason()
    if reason is not None:
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=find_chromium(), headless=True)
        try:
            yield launched
        finally:
            launched.close()


@dataclasses.dataclass
class Visit:
    page: Any
    console: list[str]
    requests: list[str]

    def errors(self) -> list[str]:
        return [line for line in self.console if line.startswith(("error", "pageerror"))]


# Predicates for wait_for_function are functions ("() => ..."), never bare expressions:
# playwright polls an expression with eval() in the page, which the page's CSP refuses.
@pytest.fixture
def visit(browser: Any) -> Iterator[Callable[[str], Visit]]:
    """visit(url): the page opened in a fresh browser context, its console and requests
    recorded from the start; the contexts close at the end of the test."""
    contexts: list[Any] = []

    def open_page(url: str) -> Visit:
        contexts.append(browser.new_context())
        page = contexts[-1].new_page()
        found = Visit(page, [], [])
        page.on("console", lambda m: found.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: found.console.append(f"pageerror: {e}"))
        page.on("request", lambda r: found.requests.append(r.url))
        page.goto(url)
        page.wait_for_function("() => document.documentElement.classList.contains('js')")
        return found

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(folder) -> the http://127.0.0.1:PORT origin of a static server of that folder."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle(self) -> None:
        # a browser drops a media request it no longer needs
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            super().handle()
