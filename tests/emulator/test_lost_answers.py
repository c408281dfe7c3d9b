"""Answers lost after the call was handled, and retry hints on injected throttling."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from emulator.calls import call, poll, submit
from voxform.emulator.service import Emulator

StartEmulator = Callable[..., Emulator]


def test_a_lost_answer_still_leaves_the_job_submitted(start_emulator: StartEmulator) -> None:
    losing = start_emulator(synthesis="silence", latency=0, drop_responses=1.0)
    with pytest.raises(httpx.TransportError):
        submit(losing, UserData='{"voxform": "t-1"}')
    stats = losing.stats()
    assert stats["submissions"] == {"narration/intro/hello": 1}
    assert stats["requests"] == {"response-dropped": 1}
    assert stats["calls"]["SubmitAudioProduceJob"] == 1


def test_a_client_finds_the_job_of_a_lost_answer_by_its_user_data(
    start_emulator: StartEmulator,
) -> None:
    losing = start_emulator(synthesis="silence", latency=0, drop_responses=0.5, seed=2)
    lost = []
    for n in range(8):
        try:
            submit(losing, UserData=json.dumps({"voxform": f"t-{n}"}))
        except httpx.TransportError:
            lost.append(f"t-{n}")
    assert lost, "seed 2 loses some answers"
    assert sum(losing.stats()["submissions"].values()) == 8  # answered or not, all accepted

    def listing() -> list[dict[str, Any]] | None:
        try:
            answer = call(losing, "ListSmartJobs", {"MaxResults": "100"})
        except httpx.TransportError:
            return None  # this answer was lost too: ask again
        jobs: list[dict[str, Any]] = answer.json()["SmartJobList"]
        return jobs

    tokens = [json.loads(job["UserData"])["voxform"] for job in poll(listing)]
    assert tokens == [f"t-{n}" for n in reversed(range(8))]
    assert losing.stats()["requests"]["response-dropped"] >= len(lost)


def test_injected_throttling_carries_a_retry_hint(start_emulator: StartEmulator) -> None:
    failing = start_emulator(synthesis="silence", fail_requests=1.0, seed=1)
    answers = [call(failing, "GetSmartHandleJob", {"JobId": "f" * 32}) for _ in range(10)]
    hints = {a.json()["Code"]: a.headers.get("x-acs-retry-after") for a in answers}
    assert set(hints) == {"Throttling", "ServiceUnavailable"}
    assert hints["ServiceUnavailable"] is None
    assert 100 <= int(hints["Throttling"] or 0) <= 500
