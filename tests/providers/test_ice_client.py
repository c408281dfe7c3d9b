"""The ICE client against a small real HTTP server that checks signatures like the service."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from alibabacloud_ice20201109 import models as ice_models
from alibabacloud_ice20201109.client import Client
from alibabacloud_tea_openapi import models as open_api_models

from voxform.errors import FatalError, ItemError, ProviderError, RetryableError, ThrottledError
from voxform.ice.signing import (
    NonceCache,
    SignatureError,
    VerifiedRequest,
    canonical_query,
    verify_request,
)
from voxform.providers.credentials import Credentials
from voxform.providers.ice_client import IceClient, endpoint_for

SECRET = "testsecret"
TOKEN = "sts-token-secret"
CREDENTIALS = Credentials(
    "testid", SECRET, None, source="environment (ALIBABA_CLOUD_ACCESS_KEY_ID)"
)


@dataclass
class Answer:
    """What the fake answers to the next request that passes the signature check."""

    status: int = 200
    body: Any = None  # a dict is sent as JSON, bytes as they are
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0


@dataclass
class Seen:
    raw_path: str
    verified: VerifiedRequest


class FakeIce(ThreadingHTTPServer):
    """ICE's front door: verifies ACS3 signatures, then plays canned answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.keys = {"testid": SECRET}
        self.clock_offset = timedelta(0)
        self.nonces = NonceCache()
        self.answers: list[Answer] = []
        self.seen: list[Seen] = []
        self.release = threading.Event()  # ends slow answers early at teardown

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class Handler(BaseHTTPRequestHandler):
    server: FakeIce

    def do_POST(self) -> None:
        fake = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            verified = verify_request(
                self.command,
                self.path,
                self.headers.items(),
                body,
                fake.keys,
                now=datetime.now(UTC) + fake.clock_offset,
                nonces=fake.nonces,
            )
        except SignatureError as error:
            status = 404 if error.code == "InvalidAccessKeyId.NotFound" else 400
            self.reply(Answer(status, {"Code": error.code, "Message": error.message}))
            return
        fake.seen.append(Seen(self.path, verified))
        answer = fake.answers.pop(0) if fake.answers else Answer(body={"Echo": verified.action})
        if answer.drop:
            self.close_connection = True
            return
        if answer.delay:
            fake.release.wait(answer.delay)
        # a client that gave up waiting (a timeout under test) has closed its end
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.reply(answer)

    def reply(self, answer: Answer) -> None:
        if isinstance(answer.body, dict):
            payload = json.dumps({"RequestId": "req-1", **answer.body}).encode()
            content_type = "application/json"
        else:
            payload, content_type = answer.body, "text/html"
        self.send_response(answer.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeIce]:
    server = FakeIce()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client(fake: FakeIce) -> Iterator[IceClient]:
    with IceClient(fake.url, CREDENTIALS, timeout=5) as ice:
        yield ice


def assert_no_secrets(*shown: object) -> None:
    for thing in shown:
        for text in (str(thing), repr(thing)):
            assert SECRET not in text
            assert TOKEN not in text


# --- requests as the service sees them -----------------------------------------------------


def test_a_call_arrives_signed_with_every_parameter_intact(
    fake: FakeIce, client: IceClient
) -> None:
    params = {"InputConfig": "<speak>你好 world *~+&=/?#%😀</speak>", "Title": "a b"}
    assert client.call("SubmitAudioProduceJob", params) == {
        "RequestId": "req-1",
        "Echo": "SubmitAudioProduceJob",
    }
    (seen,) = fake.seen
    assert seen.verified.params == params
    assert seen.verified.version == "2020-11-09"
    assert seen.raw_path == "/?" + canonical_query(params)  # the bytes sent are the bytes signed


def test_every_attempt_gets_a_fresh_nonce(fake: FakeIce, client: IceClient) -> None:
    for _ in range(3):
        client.get_smart_handle_job("job-1")  # the fake's nonce cache refuses a replay
    assert len({seen.verified.nonce for seen in fake.seen}) == 3


def test_an_sts_token_is_sent_signed(fake: FakeIce) -> None:
    sts = Credentials("testid", SECRET, TOKEN, source="aliyun CLI profile 'sts'")
    with IceClient(fake.url, sts, timeout=5) as ice:
        ice.get_smart_handle_job("job-1")
        assert_no_secrets(ice)
    (seen,) = fake.seen
    assert seen.verified.security_token == TOKEN
    assert "x-acs-security-token" in seen.verified.signed_headers


def test_submit_audio_produce_job_sends_the_documented_parameters(
    fake: FakeIce, client: IceClient
) -> None:
    fake.answers.append(Answer(body={"JobId": "j1", "MediaId": "m1", "State": "Created"}))
    answer = client.submit_audio_produce_job(
        input_config="<speak>hi</speak>",
        editing_config='{"voice":"siqi","format":"MP3"}',
        output_config='{"bucket":"b","object":"o"}',
        title="t",
        user_data='{"k":1}',
        overwrite=True,
    )
    assert answer["JobId"] == "j1"
    (seen,) = fake.seen
    assert seen.verified.action == "SubmitAudioProduceJob"
    assert seen.verified.params == {
        "InputConfig": "<speak>hi</speak>",
        "EditingConfig": '{"voice":"siqi","format":"MP3"}',
        "OutputConfig": '{"bucket":"b","object":"o"}',
        "Title": "t",
        "UserData": '{"k":1}',
        "Overwrite": "true",
    }


def test_get_smart_handle_job_asks_for_the_job(fake: FakeIce, client: IceClient) -> None:
    fake.answers.append(Answer(body={"JobId": "j1", "State": "Finished"}))
    assert client.get_smart_handle_job("j1")["State"] == "Finished"
    (seen,) = fake.seen
    assert (seen.verified.action, seen.verified.params) == ("GetSmartHandleJob", {"JobId": "j1"})


# --- answers mapped to what the executor does next -----------------------------------------


def error_body(code: str, message: str = "m") -> dict[str, str]:
    return {"Code": code, "Message": message, "RequestId": "req-9"}


@pytest.mark.parametrize(
    ("answer", "kind", "code", "retry_after"),
    [
        (
            Answer(400, error_body("Throttling.User"), {"x-acs-retry-after": "1500"}),
            ThrottledError,
            "Throttling.User",
            1.5,
        ),
        (
            Answer(400, error_body("Throttling.Api"), {"Retry-After": "2"}),
            ThrottledError,
            "Throttling.Api",
            2.0,
        ),
        (Answer(503, error_body("Throttling")), ThrottledError, "Throttling", None),
        (Answer(503, error_body("ServiceUnavailable")), RetryableError, "ServiceUnavailable", None),
        (Answer(500, error_body("InternalError")), RetryableError, "InternalError", None),
        (Answer(502, error_body("SomethingNew")), RetryableError, "SomethingNew", None),
        (Answer(502, b"<html>Bad Gateway</html>"), RetryableError, "HTTP502", None),
        (Answer(200, b"<html>captive portal</html>"), RetryableError, "HTTP200", None),
        (Answer(200, b"[1, 2]"), RetryableError, "HTTP200", None),
        (
            Answer(400, error_body("InvalidParameter", "EditingConfig is not valid")),
            ItemError,
            "InvalidParameter",
            None,
        ),
        (Answer(400, error_body("MissingEditingConfig")), ItemError, "MissingEditingConfig", None),
        (Answer(404, error_body("InvalidApi.NotFound")), ItemError, "InvalidApi.NotFound", None),
    ],
)
def test_answers_become_the_right_error(
    fake: FakeIce,
    client: IceClient,
    answer: Answer,
    kind: type[ProviderError],
    code: str,
    retry_after: float | None,
) -> None:
    fake.answers.append(answer)
    with pytest.raises(ProviderError) as caught:
        client.get_smart_handle_job("j1")
    error = caught.value
    assert type(error) is kind
    assert error.code == code
    if isinstance(error, RetryableError):
        assert error.retry_after == retry_after
    if isinstance(answer.body, dict):
        assert error.request_id == "req-9"
        assert answer.body["Message"] in str(error)
    assert_no_secrets(error, client)


def test_an_unknown_access_key_is_fatal_and_names_the_source(fake: FakeIce) -> None:
    stranger = Credentials("nobody", SECRET, None, source="aliyun CLI profile 'old'")
    with IceClient(fake.url, stranger, timeout=5) as ice, pytest.raises(FatalError) as caught:
        ice.get_smart_handle_job("j1")
    assert caught.value.code == "InvalidAccessKeyId.NotFound"
    assert "aliyun CLI profile 'old'" in str(caught.value)
    assert_no_secrets(caught.value)


def test_a_wrong_secret_is_fatal_and_says_to_check_it(fake: FakeIce) -> None:
    wrong = Credentials("testid", "not-" + SECRET, None, source="environment (X)")
    with IceClient(fake.url, wrong, timeout=5) as ice, pytest.raises(FatalError) as caught:
        ice.get_smart_handle_job("j1")
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "check the access key secret" in str(caught.value)
    assert "environment (X)" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_clock_far_off_is_fatal_and_says_so(fake: FakeIce, client: IceClient) -> None:
    fake.clock_offset = timedelta(minutes=16)
    with pytest.raises(FatalError) as caught:
        client.get_smart_handle_job("j1")
    assert caught.value.code == "InvalidTimeStamp.Expired"
    assert "clock is more than 15 minutes off" in str(caught.value)


# --- the network failing -------------------------------------------------------------------


def test_a_dropped_connection_is_retryable(fake: FakeIce, client: IceClient) -> None:
    fake.answers.append(Answer(drop=True))
    with pytest.raises(RetryableError, match=re.escape(fake.url)):
        client.get_smart_handle_job("j1")


def test_a_slow_answer_times_out_as_retryable(fake: FakeIce) -> None:
    fake.answers.append(Answer(body={}, delay=5))
    with (
        IceClient(fake.url, CREDENTIALS, timeout=0.3) as ice,
        pytest.raises(RetryableError, match=r"did not answer within 0\.3 s"),
    ):
        ice.get_smart_handle_job("j1")


def test_a_refused_connection_names_the_endpoint() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with (
        IceClient(endpoint, CREDENTIALS, timeout=2) as ice,
        pytest.raises(RetryableError, match=re.escape(f"the ICE endpoint {endpoint}:")),
    ):
        ice.get_smart_handle_job("j1")


# --- endpoints -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "endpoint"),
    [
        ("cn-shanghai", "https://ice.cn-shanghai.aliyuncs.com"),
        ("ap-southeast-1", "https://ice.ap-southeast-1.aliyuncs.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://ice-vpc.cn-beijing.aliyuncs.com", "https://ice-vpc.cn-beijing.aliyuncs.com"),
    ],
)
def test_an_endpoint_is_a_region_or_a_url(given: str, endpoint: str) -> None:
    assert endpoint_for(given) == endpoint


@pytest.mark.parametrize("given", ["", "shanghai", "ftp://host", "http://host/path", "http://[::1"])
def test_a_bad_endpoint_is_fatal(given: str) -> None:
    with pytest.raises(FatalError, match="neither a region"):
        endpoint_for(given)


def test_the_client_repr_hides_the_secret() -> None:
    with IceClient("cn-shanghai", CREDENTIALS) as ice:
        assert "ice.cn-shanghai.aliyuncs.com" in repr(ice)
        assert_no_secrets(ice)


# --- the official SDK passes the same checks ---------------------------------------------


@pytest.mark.parametrize("token", [None, TOKEN])
def test_the_official_sdk_passes_the_same_signature_checks(
    fake: FakeIce, token: str | None
) -> None:
    config = open_api_models.Config(
        access_key_id="testid",
        access_key_secret=SECRET,
        security_token=token,
        endpoint=fake.url.removeprefix("http://"),
        protocol="http",
        connect_timeout=5000,
        read_timeout=5000,
    )
    fake.answers.append(Answer(body={"JobId": "j1", "MediaId": "m1", "State": "Created"}))
    request = ice_models.SubmitAudioProduceJobRequest(
        editing_config='{"voice":"siqi"}',
        input_config="<speak>你好 a+b *~</speak>",
        output_config='{"bucket":"b","object":"o"}',
        overwrite=True,
        title="t",
    )
    assert Client(config).submit_audio_produce_job(request).body.job_id == "j1"
    (seen,) = fake.seen
    assert seen.verified.params["InputConfig"] == "<speak>你好 a+b *~</speak>"
    assert seen.verified.security_token == token
