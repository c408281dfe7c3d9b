"""Signed calls to an emulator under test: raw (httpx) and through the official SDK."""

from __future__ import annotations

import functools
import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

import httpx
from alibabacloud_ice20201109.client import Client
from alibabacloud_tea_openapi import models as open_api_models

from voxform.ice.signing import sign_request


class Emulator(Protocol):
    """What the helpers need of an emulator: where it listens (an `Emulator`, or a process's)."""

    url: str


EDITING = json.dumps({"voice": "xiaoyun", "format": "MP3", "volume": 50})
OUTPUT = json.dumps({"bucket": "narration", "object": "intro/hello"})
SSML = "<speak>Hello there. How are you today?</speak>"


def sdk(emulator: Emulator, key_id: str = "testid", secret: str = "testsecret") -> Client:
    """The official client pointed at the emulator (endpoint host:port, plain http)."""
    return Client(
        open_api_models.Config(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=emulator.url.removeprefix("http://"),
            protocol="http",
            read_timeout=20000,
            connect_timeout=5000,
        )
    )


def call(
    emulator: Emulator,
    action: str,
    params: Mapping[str, str],
    *,
    date: datetime | None = None,
    nonce: str | None = None,
    timeout: float = 20,
) -> httpx.Response:
    """One signed RPC call with the query as signed; the raw answer."""
    host = emulator.url.removeprefix("http://")
    signed = sign_request(
        method="POST",
        host=host,
        action=action,
        version="2020-11-09",
        params=params,
        body=b"",
        access_key_id="testid",
        access_key_secret="testsecret",
        security_token=None,
        date=date,
        nonce=nonce,
    )
    return _http().post(emulator.url + signed.path, headers=signed.headers, timeout=timeout)


@functools.cache
def _http() -> httpx.Client:
    """One client for the module: a new one per call costs an SSL context each time."""
    return httpx.Client()


def submit(emulator: Emulator, **params: str) -> httpx.Response:
    return call(
        emulator,
        "SubmitAudioProduceJob",
        {"InputConfig": SSML, "EditingConfig": EDITING, "OutputConfig": OUTPUT, **params},
    )


def poll(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Call `check` until it answers something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def final_job(emulator: Emulator, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        answer: dict[str, Any] = call(emulator, "GetSmartHandleJob", {"JobId": job_id}).json()
        return answer if answer["State"] in ("Finished", "Failed") else None

    result: dict[str, Any] = poll(done)
    return result


def list_jobs(emulator: Emulator, **params: str) -> dict[str, Any]:
    """One ListSmartJobs page (the call must succeed)."""
    answer = call(emulator, "ListSmartJobs", params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def all_pages(
    emulator: Emulator, between: Callable[[], object] = lambda: None, **params: str
) -> list[list[dict[str, Any]]]:
    """Every page of a listing, following NextToken; `between` runs before each next page."""
    pages = [list_jobs(emulator, **params)]
    while pages[-1].get("NextToken"):
        between()
        pages.append(list_jobs(emulator, **params, NextToken=pages[-1]["NextToken"]))
    return [page["SmartJobList"] for page in pages]


def first_lines(process: subprocess.Popen[str], count: int, timeout: float) -> list[str]:
    """The first `count` lines on the process's stdout, or fail after `timeout` seconds."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    return [lines.get(timeout=max(0.0, deadline - time.monotonic())) for _ in range(count)]
