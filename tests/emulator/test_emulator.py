"""The ICE emulator through its front door: real HTTP on 127.0.0.1, the official SDK as client."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_ice20201109 import models as ice_models
from Tea.exceptions import TeaException

from emulator.calls import (
    EDITING,
    OUTPUT,
    SSML,
    call,
    final_job,
    first_lines,
    poll,
    sdk,
    submit,
)
from voxform.emulator.service import Emulator
from voxform.ice.signing import DATE_FORMAT

StartEmulator = Callable[..., Emulator]

VECTORS = sorted((Path(__file__).parent.parent / "ice" / "vectors").glob("*.json"))
SIGNATURE_CODES = {
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId.NotFound",
    "InvalidTimeStamp.Expired",
    "SignatureNonceUsed",
    "MissingAuthorization",
}


# --- the official SDK -------------------------------------------------------------------


def test_sdk_job_finishes_with_real_mp3_and_sentence_timings(emulator: Emulator) -> None:
    client = sdk(emulator)
    submitted = client.submit_audio_produce_job(
        ice_models.SubmitAudioProduceJobRequest(
            editing_config=EDITING,
            input_config=SSML,
            output_config=OUTPUT,
            title="Intro",
            user_data='{"NotifyAddress": "https://example.com/cb"}',
            overwrite=True,
        )
    ).body
    assert submitted.state == "Created"
    assert len(submitted.job_id) == 32 and len(submitted.media_id) == 32
    int(submitted.job_id, 16)

    def finished() -> Any:
        request = ice_models.GetSmartHandleJobRequest(job_id=submitted.job_id)
        body = client.get_smart_handle_job(request).body
        return body if body.state in ("Finished", "Failed") else None

    job = poll(finished)
    assert job.state == "Finished", job.error_message
    audio = (emulator.storage / "narration" / "intro" / "hello.mp3").read_bytes()
    assert audio[:3] == b"ID3" or (audio[0] == 0xFF and audio[1] & 0xE0 == 0xE0)
    assert job.job_result.media_id == submitted.media_id
    assert httpx.get(job.job_result.media_url).content == audio
    timings = json.loads(job.job_result.ai_result)
    assert [t["content"] for t in timings] == ["Hello there.", "How are you today?"]
    assert 0 == timings[0]["from"] < timings[0]["to"] <= timings[1]["from"] < timings[1]["to"]
    info = job.smart_job_info
    assert (info.title, info.job_type) == ("Intro", "TextToSpeech")
    assert (info.output_config.bucket, info.output_config.object) == ("narration", "intro/hello")
    assert info.input_config.input_file == SSML
    assert job.user_data == '{"NotifyAddress": "https://example.com/cb"}'
    assert emulator.stats()["submissions"] == {"narration/intro/hello": 1}


@pytest.mark.parametrize(
    ("key_id", "secret", "code"),
    [
        ("testid", "wrong", "SignatureDoesNotMatch"),
        ("nobody", "testsecret", "InvalidAccessKeyId.NotFound"),
    ],
)
def test_sdk_with_bad_credentials_is_refused(
    emulator: Emulator, key_id: str, secret: str, code: str
) -> None:
    request = ice_models.GetSmartHandleJobRequest(job_id="0" * 32)
    with pytest.raises(TeaException) as caught:
        sdk(emulator, key_id, secret).get_smart_handle_job(request)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"editing_config": None}, "MissingEditingConfig"),
        ({"editing_config": json.dumps({"voice": "xiaoyun", "volume": 101})}, "InvalidParameter"),
    ],
)
def test_sdk_sees_parameter_errors(
    emulator: Emulator, fields: dict[str, str | None], code: str
) -> None:
    values = {"editing_config": EDITING, "input_config": SSML, "output_config": OUTPUT, **fields}
    request = ice_models.SubmitAudioProduceJobRequest(**values)
    with pytest.raises(TeaException) as caught:
        sdk(emulator).submit_audio_produce_job(request)
    assert caught.value.code == code
    assert emulator.stats()["submissions"] == {}


# --- parameters ---------------------------------------------------------------------------


def _editing(**changes: object) -> str:
    return json.dumps({"voice": "xiaoyun", "format": "MP3", **changes})


@pytest.mark.parametrize(
    ("params", "status", "code", "hint"),
    [
        ({"OutputConfig": ""}, 400, "MissingOutputConfig", "OutputConfig"),
        ({"InputConfig": ""}, 400, "MissingInputConfig", "InputConfig"),
        ({"EditingConfig": "{voice"}, 400, "InvalidParameter", "not valid JSON"),
        ({"EditingConfig": _editing(volume=-1)}, 400, "InvalidParameter", "volume"),
        ({"EditingConfig": _editing(speech_rate=501)}, 400, "InvalidParameter", "speech_rate"),
        ({"EditingConfig": _editing(pitch_rate=-501)}, 400, "InvalidParameter", "pitch_rate"),
        ({"EditingConfig": _editing(format="OGG")}, 400, "InvalidParameter", "PCM, WAV or MP3"),
        ({"Title": "é" * 65}, 400, "InvalidParameter", "Title is 130 bytes"),
        ({"Description": "d" * 1025}, 400, "InvalidParameter", "Description"),
        ({"UserData": json.dumps({"x": "u" * 510})}, 400, "InvalidParameter", "UserData"),
        ({"UserData": "not json"}, 400, "InvalidParameter", "UserData"),
        ({"InputConfig": "x" * 2001}, 400, "InvalidParameter", "2001 characters"),
        (
            {"OutputConfig": '{"bucket": "My_Bucket", "object": "a"}'},
            400,
            "InvalidParameter",
            "bucket",
        ),
        (
            {"OutputConfig": '{"bucket": "ok-bucket", "object": "../a"}'},
            400,
            "InvalidParameter",
            "object",
        ),
        (
            {"InputConfig": '<speak sampleRate="44100">hi</speak>'},
            400,
            "InvalidParameter",
            "sampleRate",
        ),
    ],
)
def test_invalid_submissions_are_refused_with_ice_codes(
    emulator: Emulator, params: dict[str, str], status: int, code: str, hint: str
) -> None:
    answer = submit(emulator, **params)
    body = answer.json()
    assert (answer.status_code, body["Code"]) == (status, code)
    assert hint in body["Message"]
    assert set(body) == {"RequestId", "Code", "Message", "HostId", "Recommend"}
    assert emulator.stats()["submissions"] == {}


@pytest.mark.parametrize(
    ("action", "params", "status", "code"),
    [
        ("GetSmartHandleJob", {}, 400, "MissingJobId"),
        ("GetSmartHandleJob", {"JobId": "f" * 32}, 404, "InvalidParameter"),
        ("DeleteEverything", {}, 404, "InvalidApi.NotFound"),
    ],
)
def test_other_calls_get_ice_errors(
    emulator: Emulator, action: str, params: dict[str, str], status: int, code: str
) -> None:
    answer = call(emulator, action, params)
    assert (answer.status_code, answer.json()["Code"]) == (status, code)


def test_wav_format_is_case_insensitive_and_plain_text_is_spoken(emulator: Emulator) -> None:
    answer = submit(emulator, EditingConfig=_editing(format="wav"), InputConfig="Tom & Jerry <3")
    job = final_job(emulator, answer.json()["JobId"])
    assert job["State"] == "Finished", job.get("ErrorMessage")
    assert job["JobResult"]["MediaUrl"].endswith("/narration/intro/hello.wav")
    assert (emulator.storage / "narration/intro/hello.wav").read_bytes()[:4] == b"RIFF"
    assert json.loads(job["JobResult"]["AiResult"])[0]["content"] == "Tom & Jerry <3"


def test_malformed_ssml_fails_the_job_not_the_submission(emulator: Emulator) -> None:
    answer = submit(emulator, InputConfig="<speak>unclosed <s>tag</speak>")
    job = final_job(emulator, answer.json()["JobId"])
    assert (job["State"], job["ErrorCode"]) == ("Failed", "InvalidParameter")
    assert "malformed SSML" in job["ErrorMessage"]


def test_media_urls_stay_inside_storage(emulator: Emulator) -> None:
    for path in ("/_emulator/oss/../../etc/passwd", "/_emulator/oss/%2e%2e/%2e%2e/etc/passwd"):
        answer = httpx.get(emulator.url + path)
        # httpx folds the first into /etc/passwd: an unsigned OSS GetObject, refused
        assert answer.status_code in (403, 404)
        assert b"root:" not in answer.content


# --- signatures ---------------------------------------------------------------------------


def _replay(emulator: Emulator, vector: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Send the captured request byte for byte: request line, headers in order, body."""
    port = int(emulator.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.putrequest(
            vector["method"], vector["raw_path"], skip_host=True, skip_accept_encoding=True
        )
        for name, value in vector["headers"]:
            connection.putheader(name, value)
        connection.endheaders(vector["body"].encode("utf-8") or None)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _vector(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return vector


def _at_vector_time(start_emulator: StartEmulator, vector: dict[str, Any]) -> Emulator:
    """An emulator whose clock reads the vector's x-acs-date."""
    date = next(value for name, value in vector["headers"] if name.lower() == "x-acs-date")
    then = datetime.strptime(date, DATE_FORMAT).replace(tzinfo=UTC)
    return start_emulator(clock_offset=(then - datetime.now(UTC)).total_seconds())


def test_signature_vectors_are_there() -> None:
    assert {p.stem for p in VECTORS} >= {"get", "submit", "submit_formbody", "sts", "tricky"}


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_captured_sdk_requests_pass_the_signature_check(
    start_emulator: StartEmulator, path: Path
) -> None:
    vector = _vector(path)
    status, body = _replay(_at_vector_time(start_emulator, vector), vector)
    # The vectors' bucket "my_bucket" is not a valid OSS name: past the signature, that
    # is the only complaint a submission gets.
    assert body.get("Code") not in SIGNATURE_CODES, body
    assert status == 200 or body["Code"] == "InvalidParameter", body


def _tampered(vector: dict[str, Any], part: str) -> dict[str, Any]:
    """The vector with the last byte of its query, body or nonce header changed."""

    def flip(text: str) -> str:
        return text[:-1] + chr(ord(text[-1]) ^ 1)

    changed: dict[str, Any] = json.loads(json.dumps(vector))
    if part == "query":
        changed["raw_path"] = flip(vector["raw_path"])
    elif part == "body":
        changed["body"] = flip(vector["body"])
    else:
        changed["headers"] = [
            [name, flip(value) if name.lower() == "x-acs-signature-nonce" else value]
            for name, value in vector["headers"]
        ]
    return changed


TAMPERINGS = [
    pytest.param(path, part, id=f"{path.stem}-{part}")
    for path in VECTORS
    for part, present in (
        ("query", "?" in _vector(path)["raw_path"]),
        ("body", bool(_vector(path)["body"])),
        ("nonce", True),
    )
    if present
]


@pytest.mark.parametrize(("path", "part"), TAMPERINGS)
def test_one_changed_signed_byte_breaks_the_signature(
    start_emulator: StartEmulator, path: Path, part: str
) -> None:
    changed = _tampered(_vector(path), part)
    status, body = _replay(_at_vector_time(start_emulator, changed), changed)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_stale_date_is_refused(emulator: Emulator) -> None:
    stale = datetime.now(UTC) - timedelta(minutes=16)
    answer = call(emulator, "GetSmartHandleJob", {"JobId": "f" * 32}, date=stale)
    assert (answer.status_code, answer.json()["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_server_clock_offset_makes_fresh_requests_stale(start_emulator: StartEmulator) -> None:
    skewed = start_emulator(clock_offset=3600)
    answer = call(skewed, "GetSmartHandleJob", {"JobId": "f" * 32})
    assert answer.json()["Code"] == "InvalidTimeStamp.Expired"


def test_replayed_nonce_is_refused(emulator: Emulator) -> None:
    first = call(emulator, "GetSmartHandleJob", {"JobId": "f" * 32}, nonce="n-1")
    again = call(emulator, "GetSmartHandleJob", {"JobId": "f" * 32}, nonce="n-1")
    assert first.json()["Code"] == "InvalidParameter"
    assert (again.status_code, again.json()["Code"]) == (400, "SignatureNonceUsed")


# --- rate limit and faults ------------------------------------------------------------------


def test_rate_limit_answers_throttling_with_retry_after(start_emulator: StartEmulator) -> None:
    limited = start_emulator(rate_limit=1)
    codes = [call(limited, "GetSmartHandleJob", {"JobId": "f" * 32}) for _ in range(2)]
    assert codes[0].json()["Code"] == "InvalidParameter"
    assert (codes[1].status_code, codes[1].json()["Code"]) == (400, "Throttling.User")
    assert 0 < int(codes[1].headers["x-acs-retry-after"]) <= 1000


def test_failed_jobs_carry_an_error_code_and_leave_no_audio(
    start_emulator: StartEmulator,
) -> None:
    failing = start_emulator(latency=0.05, fail_jobs=1.0)
    job = final_job(failing, submit(failing).json()["JobId"])
    assert (job["State"], job["ErrorCode"]) == ("Failed", "TTS.SynthesisFailed")
    assert job["ErrorMessage"]
    assert "MediaUrl" not in job["JobResult"]
    assert not (failing.storage / "narration").exists()
    assert failing.stats()["jobs"]["Failed"] == 1


def test_failed_requests_answer_retryable_errors_and_submit_nothing(
    start_emulator: StartEmulator,
) -> None:
    failing = start_emulator(fail_requests=1.0, seed=1)
    answers = [submit(failing) for _ in range(8)]
    seen = {(a.status_code, a.json()["Code"]) for a in answers}
    assert seen <= {(503, "ServiceUnavailable"), (400, "Throttling"), (503, "Throttling")}
    assert len(seen) > 1
    assert failing.stats()["submissions"] == {}


def test_faults_repeat_for_the_same_seed(start_emulator: StartEmulator) -> None:
    def outcomes(seed: int) -> list[int]:
        emulator = start_emulator(fail_requests=0.5, seed=seed)
        return [call(emulator, "GetSmartHandleJob", {"JobId": "f"}).status_code for _ in range(12)]

    first = outcomes(5)
    assert first == outcomes(5)
    assert 404 in first and len(set(first)) > 1


def test_dropped_connections_are_transport_errors(start_emulator: StartEmulator) -> None:
    dropping = start_emulator(drop_connections=1.0)
    with pytest.raises(httpx.TransportError):
        submit(dropping)
    assert dropping.stats()["submissions"] == {}
    assert dropping.stats()["requests"] == {"dropped": 1}


def test_slow_answers_arrive_late(start_emulator: StartEmulator) -> None:
    slow = start_emulator(slow_requests=1.0, slow_seconds=0.3)
    started = time.monotonic()
    answer = call(slow, "GetSmartHandleJob", {"JobId": "f" * 32})
    assert time.monotonic() - started >= 0.3
    assert answer.json()["Code"] == "InvalidParameter"


def test_slow_submission_abandoned_by_its_client_is_not_submitted(
    start_emulator: StartEmulator,
) -> None:
    slow = start_emulator(slow_requests=1.0, slow_seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        call(slow, "SubmitAudioProduceJob", {"InputConfig": SSML}, timeout=0.1)
    poll(lambda: slow.stats()["requests"].get("abandoned"))
    assert slow.stats()["submissions"] == {}


def test_stats_count_submissions_per_object_and_jobs_per_state(emulator: Emulator) -> None:
    other = json.dumps({"bucket": "narration", "object": "outro"})
    ids = [submit(emulator).json()["JobId"] for _ in range(2)]
    ids.append(submit(emulator, OutputConfig=other).json()["JobId"])
    for job_id in ids:
        final_job(emulator, job_id)
    stats = httpx.get(emulator.url + "/_emulator/stats").json()
    assert stats["submissions"] == {"narration/intro/hello": 2, "narration/outro": 1}
    assert stats["jobs"] == {"Created": 0, "Executing": 0, "Finished": 3, "Failed": 0}


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serves_until_signalled_and_cleans_up(stop: signal.Signals) -> None:
    command = [sys.executable, "-c", "from voxform.cli.main import main; main()"]
    options = ["emulator", "--port", "0", "--key", "me:s3cret-value", "--latency", "0"]
    process = subprocess.Popen(
        [*command, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listening, storage = first_lines(process, 2, timeout=20)
        assert listening.startswith("listening on http://127.0.0.1:")
        assert storage.startswith("storage: ")
        url = listening.removeprefix("listening on ")
        assert httpx.get(url + "/_emulator/stats", timeout=10).json()["submissions"] == {}
        process.send_signal(stop)
        out, err = process.communicate(timeout=15)  # the reader thread holds stdout
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "s3cret" not in out + err
    assert not Path(storage.removeprefix("storage: ")).exists()
