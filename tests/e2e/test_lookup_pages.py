"""A lost submission is found on the fourth page of the job list while every second page
read in a row is throttled: each page is read once, the throttled one again by itself.

Starting the pass over at page 1 after each failed page never reaches page 4 here: the
emulator lets one ListSmartJobs call through per two seconds, and after each wait page 1
takes that call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import write_files
from emulator.calls import EDITING, SSML, call
from voxform.project import load_project

Emulator = Callable[..., tuple[str, Path]]  # the `emulator` fixture: (url, storage)
FILLERS = 350  # jobs newer than the lost one: it is on the fourth page of 100
TOKEN = "0123456789abcdef0123"


@dataclass
class Endpoint:
    url: str


def submit(endpoint: Endpoint, obj: str, user_data: str | None = None) -> str:
    params = {
        "InputConfig": SSML,
        "EditingConfig": EDITING,
        "OutputConfig": json.dumps({"bucket": "lookup-audio", "object": obj}),
    }
    if user_data is not None:
        params["UserData"] = user_data
    answer = call(endpoint, "SubmitAudioProduceJob", params)
    assert answer.status_code == 200, answer.text
    job_id: str = answer.json()["JobId"]
    return job_id


def stats(endpoint: Endpoint) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(endpoint.url + "/_emulator/stats", timeout=10).json()
    return answer


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    return write_files(
        tmp_path / "project",
        {
            "voxform.yaml": """
                version: 1
                targets:
                  oss: {provider: ice, bucket: lookup-audio, prefix: l/}
                voices:
                  narrator: {voice: siqi}
                defaults: {voice: narrator, target: oss}
                items:
                  - {id: a, text: Hello there. How are you today?}
                """,
        },
    )


def test_a_throttled_page_is_read_again_by_itself_and_the_lost_job_is_found(
    project: Path, emulator: Emulator
) -> None:
    url, _ = emulator(
        "--rate-limit", "ListSmartJobs=0.5", "--synthesis", "silence", "--latency", "0"
    )
    endpoint = Endpoint(url)
    lost = submit(endpoint, "l/a", json.dumps({"voxform": TOKEN}))
    for number in range(FILLERS):
        submit(endpoint, f"filler/{number}")
    # What a crash right after sending leaves: the intent, with its token, and no job id.
    change = load_project(project).plan().changes[0]
    intent = {
        "state": "pending",
        "fingerprint": change.fingerprint,
        "characters": change.characters,
        "inputs": dict(change.inputs or {}),
        "token": TOKEN,
    }
    journal = project / ".voxform" / "voxform.lock.journal"
    journal.parent.mkdir(exist_ok=True)  # the plan above may have made it for its caches
    record = {"at": round(time.time() - 30, 3), "entry": intent, "id": "a"}
    journal.write_text(json.dumps(record, sort_keys=True) + "\n")

    env = {**os.environ, "VOXFORM_ICE_ENDPOINT": url}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "voxform", "-C", str(project), "apply", "--yes"],
            capture_output=True,
            text=True,
            env=env,
            timeout=90,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("apply kept reading the job list from its first page")
    assert result.returncode == 0, result.stdout + result.stderr

    seen = stats(endpoint)
    assert seen["submissions"]["lookup-audio/l/a"] == 1  # found, not sent again
    listed = seen["calls"]["ListSmartJobs"] - seen["throttled"]["ListSmartJobs"]
    assert listed == 4  # each of the four pages read once
    entry = json.loads((project / "voxform.lock").read_text())["items"]["a"]
    assert (entry["state"], entry["job_id"]) == ("finished", lost)
