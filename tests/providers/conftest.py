"""A stand-in for ICE that answers what the emulator never would: NaN timings, deep nesting,
a retry-after of 1e300. It checks no signature; it counts calls and keeps the headers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import write_files

# One reply: HTTP status, body bytes, extra headers.
Reply = tuple[int, bytes, dict[str, str]]


def reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, json.dumps({"RequestId": "req-1", **body}).encode(), headers or {}


@dataclass
class Call:
    action: str
    params: dict[str, str]
    headers: dict[str, str]


class HostileIce(ThreadingHTTPServer):
    """ICE's three operations; `ai_result` is what every finished job's timings say, and
    `answer` can replace any reply (return None to answer as usual)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: list[Call] = []
        self.ai_result = json.dumps([{"content": "Welcome.", "from": 0.0, "to": 1.5}])
        self.answer: Callable[[Call], Reply | None] = lambda call: None
        self._guard = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def actions(self) -> list[str]:
        return [call.action for call in self.calls]

    def reply_to(self, call: Call) -> Reply:
        with self._guard:
            self.calls.append(call)
            jobs = sum(c.action == "SubmitAudioProduceJob" for c in self.calls)
        special = self.answer(call)
        if special is not None:
            return special
        if call.action == "SubmitAudioProduceJob":
            return reply({"JobId": f"job-{jobs}", "MediaId": f"media-{jobs}", "State": "Created"})
        if call.action == "GetSmartHandleJob":
            result = {"MediaId": "m", "MediaUrl": "https://oss/a.mp3", "AiResult": self.ai_result}
            return reply({"JobId": call.params["JobId"], "State": "Finished", "JobResult": result})
        return reply({"SmartJobList": [], "TotalCount": 0})


class _Handler(BaseHTTPRequestHandler):
    server: HostileIce

    def do_POST(self) -> None:
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        call = Call(
            self.headers.get("x-acs-action", ""),
            {name: values[0] for name, values in query.items()},
            {name.lower(): value for name, value in self.headers.items()},
        )
        status, body, headers = self.server.reply_to(call)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HostileIce]:
    """The stand-in on 127.0.0.1, port 0, named by VOXFORM_ICE_ENDPOINT, with a key pair in
    the environment and a HOME without an aliyun config; stopped at the end."""
    server = HostileIce()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", server.url)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_PROFILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


ICE_MANIFEST = """\
    version: 1
    name: hostile
    targets:
      oss: {provider: ice, region: cn-shanghai, bucket: my-audio, prefix: course/}
    voices:
      narrator: {voice: siqi}
    defaults: {voice: narrator, format: mp3, sample_rate: 16000, target: oss}
    items:
      - id: welcome
        text: Welcome to the course.
"""


@pytest.fixture
def ice_project(tmp_path: Path) -> Path:
    """A project of one item on an ICE target."""
    return write_files(tmp_path / "project", {"voxform.yaml": ICE_MANIFEST})
