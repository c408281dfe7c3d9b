"""Answers no sane service gives still end in a clear state: timings that make no sense are
left out (the audio is made and paid for; failing the item would pay for it again), odd
fields are not recorded, and a retry-after of 1e300 is honoured only up to the deadline."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conftest import Runner
from providers.conftest import Call, HostileIce, Reply, reply
from voxform.apply.retry import LONGEST_WAIT, RetryPolicy
from voxform.errors import RetryableError, UnknownOutcome
from voxform.ice.wire import AudioRequest, EditingConfig
from voxform.providers.credentials import Credentials
from voxform.providers.ice import IceProvider
from voxform.providers.ice_client import IceClient
from voxform.state.lockfile import read_lockfile

CREDENTIALS = Credentials("testid", "testsecret", None, source="tests")
GOOD = '{"content": "Welcome.", "from": 0, "to": 1.5}'
DEEP = "[" * 100_000 + "]" * 100_000


def applied(voxform: Runner, project: Path) -> dict[str, object]:
    """Apply; the item's block, read back by the lockfile's own strict reader too."""
    result = voxform(project, "apply", "--yes")
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    read_lockfile(project / "voxform.lock")  # no LockfileError: whatever was written is sound
    block: dict[str, object] = json.loads((project / "voxform.lock").read_text())["items"][
        "welcome"
    ]
    block["exit_code"] = result.exit_code
    return block


@pytest.mark.parametrize(
    "timings",
    [
        '[{"content": "Welcome.", "from": NaN, "to": 1.5}]',
        '[{"content": "Welcome.", "from": 0, "to": Infinity}]',
        '[{"content": "Welcome.", "from": 0, "to": 1e308}]',
        '[{"content": "Welcome.", "from": 0, "to": ' + "9" * 5000 + "}]",
        '[{"content": "Welcome.", "from": -1, "to": 1.5}]',
        '[{"content": "Welcome.", "from": 2, "to": 1}]',
        '[{"content": "Welcome.", "from": true, "to": 1.5}]',
        '[{"content": "Welcome.", "from": "1e999", "to": "1e999"}]',
        DEEP,
        '{"sentences": ' + DEEP[:2000] + DEEP[-2000:] + "}",
        "not json",
    ],
    ids=[
        "nan",
        "infinity",
        "1e308",
        "5000-digits",
        "negative",
        "backwards",
        "bool",
        "strings",
        "deep",
        "deep-wrapped",
        "not-json",
    ],
)
def test_timings_that_make_no_sense_are_left_out_and_the_item_is_finished(
    hostile: HostileIce, ice_project: Path, voxform: Runner, timings: str
) -> None:
    hostile.ai_result = timings

    block = applied(voxform, ice_project)

    assert block["exit_code"] == 0
    assert block["state"] == "finished" and block["url"] == "https://oss/a.mp3"
    assert "duration" not in block and "subtitles" not in block
    assert not (ice_project / "subtitles").exists()


def test_good_timings_beside_bad_ones_still_make_subtitles(
    hostile: HostileIce, ice_project: Path, voxform: Runner
) -> None:
    hostile.ai_result = (
        "[" + GOOD + ', {"content": "Bad.", "from": NaN, "to": 9}'
        ', {"content": ["not", "text"], "from": 1.5, "to": 2.25}]'
    )

    block = applied(voxform, ice_project)

    assert block["exit_code"] == 0 and block["duration"] == 2.25
    vtt = (ice_project / "subtitles/oss/course/welcome.vtt").read_text()
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nWelcome.\n"


def failed_job(message: object) -> object:
    def answer(call: Call) -> Reply | None:
        if call.action != "GetSmartHandleJob":
            return None
        job = {"JobId": call.params["JobId"], "State": "Failed", "ErrorMessage": message}
        return reply({**job, "ErrorCode": ["x"]})

    return answer


@pytest.mark.parametrize(
    ("message", "recorded"),
    [("\ud800 broke", "? broke"), (["a", "list"], "the job failed"), (None, "the job failed")],
    ids=["lone-surrogate", "list", "null"],
)
def test_a_failed_jobs_odd_error_is_recorded_as_text(
    hostile: HostileIce, ice_project: Path, voxform: Runner, message: object, recorded: str
) -> None:
    hostile.answer = failed_job(message)  # type: ignore[assignment]

    block = applied(voxform, ice_project)

    assert block["exit_code"] == 1
    assert (block["state"], block["error_code"]) == ("failed", "JobFailed")
    assert block["error_message"] == recorded


# --- the client and the provider --------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("1500", 1.5), ("1e300", 1e297), ("inf", None), ("nan", None), ("-5", None), ("x", None)],
)
def test_only_a_finite_retry_after_counts(
    hostile: HostileIce, header: str, seconds: float | None
) -> None:
    error = {"Code": "Throttling.User", "Message": "slow"}
    hostile.answer = lambda call: reply(error, 400, {"x-acs-retry-after": header})
    with (
        IceClient(hostile.url, CREDENTIALS, timeout=5) as client,
        pytest.raises(RetryableError) as caught,
    ):
        client.get_smart_handle_job("job-1")
    assert caught.value.retry_after == seconds


@pytest.mark.parametrize("asked", [1e297, float("inf"), LONGEST_WAIT * 2])
def test_a_retry_after_is_honoured_up_to_the_retry_deadline_only(asked: float) -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    assert all(policy.delay(attempt, asked, rng) == LONGEST_WAIT for attempt in range(40))
    assert policy.delay(0, 3.0, rng) >= 3.0  # a sensible one is honoured as given


@pytest.mark.parametrize("body", [DEEP.encode(), b'{"JobId": "\xff"}'], ids=["deep", "not-utf-8"])
def test_an_answer_that_cannot_be_read_is_a_transient_error(
    hostile: HostileIce, body: bytes
) -> None:
    hostile.answer = lambda call: (200, body, {})
    with (
        IceClient(hostile.url, CREDENTIALS, timeout=5) as client,
        pytest.raises(RetryableError, match="not a JSON object"),
    ):
        client.get_smart_handle_job("job-1")


def test_a_huge_number_in_an_answer_does_not_spoil_the_rest(hostile: HostileIce) -> None:
    body = b'{"JobId": "j", "State": "Finished", "Usage": ' + b"9" * 5000 + b"}"
    hostile.answer = lambda call: (200, body, {})
    with IceClient(hostile.url, CREDENTIALS, timeout=5) as client:
        answer = client.get_smart_handle_job("job-1")
    assert (answer["JobId"], answer["State"]) == ("j", "Finished")


@pytest.mark.parametrize("job_id", ["9" * 5000, '["job"]', '"job\\n1"', "null"])
def test_a_submission_answered_without_a_usable_job_id_is_of_unknown_outcome(
    hostile: HostileIce, job_id: str
) -> None:
    body = ('{"RequestId": "req-7", "JobId": ' + job_id + "}").encode()
    hostile.answer = lambda call: (200, body, {})
    request = AudioRequest("a", "<speak>a</speak>", EditingConfig("siqi", None, "mp3"), 16000, "a")
    with (
        IceProvider(IceClient(hostile.url, CREDENTIALS, timeout=5)) as provider,
        pytest.raises(UnknownOutcome, match=r"without a usable JobId \(request req-7\)"),
    ):
        provider.submit(request, "token")
