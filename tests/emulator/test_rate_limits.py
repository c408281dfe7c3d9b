"""Rate limits per operation, as Alibaba Cloud throttles each API operation on its own."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner

from emulator.calls import call, first_lines, submit
from voxform.cli.emulator import emulator as emulator_command
from voxform.emulator.service import Emulator

StartEmulator = Callable[..., Emulator]
UNKNOWN = {"JobId": "f" * 32}


def _codes(answers: list[httpx.Response]) -> list[str]:
    return [a.json().get("Code", "ok") for a in answers]


def test_a_burst_of_submissions_is_throttled_while_reads_go_on(
    start_emulator: StartEmulator,
) -> None:
    limited = start_emulator(
        synthesis="silence", latency=0, rate_limits={"SubmitAudioProduceJob": 2}
    )
    submissions = [submit(limited) for _ in range(4)]
    reads = [call(limited, "GetSmartHandleJob", UNKNOWN) for _ in range(10)]
    assert _codes(submissions)[:2] == ["ok", "ok"]
    assert "Throttling.User" in _codes(submissions)
    throttled = next(a for a in submissions if a.status_code != 200)
    assert throttled.status_code == 400
    assert 0 < int(throttled.headers["x-acs-retry-after"]) <= 500
    assert set(_codes(reads)) == {"InvalidParameter"}
    stats = limited.stats()
    assert stats["throttled"] == {
        "SubmitAudioProduceJob": _codes(submissions).count("Throttling.User"),
        "GetSmartHandleJob": 0,
        "ListSmartJobs": 0,
    }
    assert stats["calls"] == {
        "SubmitAudioProduceJob": 4,
        "GetSmartHandleJob": 10,
        "ListSmartJobs": 0,
    }
    assert sum(stats["submissions"].values()) == _codes(submissions).count("ok")


def test_a_plain_limit_gives_every_operation_its_own_bucket(start_emulator: StartEmulator) -> None:
    limited = start_emulator(
        synthesis="silence", latency=0, rate_limit=1, rate_limits={"GetSmartHandleJob": 100}
    )
    reads = [call(limited, "GetSmartHandleJob", UNKNOWN) for _ in range(8)]
    lists = [call(limited, "ListSmartJobs", {}) for _ in range(2)]
    submissions = [submit(limited) for _ in range(2)]
    assert set(_codes(reads)) == {"InvalidParameter"}
    assert _codes(lists) == ["ok", "Throttling.User"]
    assert _codes(submissions) == ["ok", "Throttling.User"]
    assert limited.stats()["throttled"]["GetSmartHandleJob"] == 0


def test_unknown_actions_are_not_found_not_throttled(start_emulator: StartEmulator) -> None:
    limited = start_emulator(synthesis="silence", rate_limit=1)
    answers = [call(limited, "DeleteEverything", {}) for _ in range(3)]
    assert [(a.status_code, a.json()["Code"]) for a in answers] == [
        (404, "InvalidApi.NotFound")
    ] * 3
    stats = limited.stats()
    assert sum(stats["calls"].values()) == sum(stats["throttled"].values()) == 0


def test_stats_count_calls_per_operation(emulator: Emulator) -> None:
    submit(emulator)
    for _ in range(3):
        call(emulator, "GetSmartHandleJob", UNKNOWN)
    call(emulator, "ListSmartJobs", {"MaxResults": "0"})  # refused, but it reached the operation
    call(emulator, "DeleteEverything", {})
    assert emulator.stats()["calls"] == {
        "SubmitAudioProduceJob": 1,
        "GetSmartHandleJob": 3,
        "ListSmartJobs": 1,
    }


def test_the_cli_combines_a_default_limit_with_one_per_operation() -> None:
    command = [sys.executable, "-c", "from voxform.cli.main import main; main()", "emulator"]
    options = ["--synthesis", "silence", "--latency", "0"]
    limits = ["--rate-limit", "5", "--rate-limit", "SubmitAudioProduceJob=2"]
    process = subprocess.Popen(
        [*command, *options, *limits], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        listening, _ = first_lines(process, 2, timeout=20)
        running = SimpleNamespace(url=listening.removeprefix("listening on "))
        submissions = _codes([submit(running) for _ in range(3)])
        reads = _codes([call(running, "GetSmartHandleJob", UNKNOWN) for _ in range(7)])
        assert submissions == ["ok", "ok", "Throttling.User"]
        assert reads[:5] == ["InvalidParameter"] * 5 and "Throttling.User" in reads
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("limits", "hint"),
    [
        (["0"], "positive"),
        (["fast"], "positive"),
        (["SubmitAudioProduceJob=-1"], "positive"),
        (["DeleteEverything=3"], "not an operation"),
        (["5", "6"], "twice"),
        (["GetSmartHandleJob=5", "GetSmartHandleJob=6"], "twice"),
    ],
)
def test_the_cli_refuses_bad_rate_limits(limits: list[str], hint: str) -> None:
    options = [arg for limit in limits for arg in ("--rate-limit", limit)]
    result = CliRunner().invoke(emulator_command, options)
    assert result.exit_code == 2
    assert hint in result.output
