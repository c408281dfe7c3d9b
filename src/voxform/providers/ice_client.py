"""A thin signed HTTP client for Alibaba Cloud ICE, mapping answers to voxform's errors."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import TracebackType

import httpx

from voxform import __version__
from voxform.endpoints import check_endpoint, redact
from voxform.errors import (
    FatalError,
    ItemError,
    ProviderError,
    RetryableError,
    ThrottledError,
    UnknownOutcome,
)
from voxform.ice.signer import Signer
from voxform.ice.wire import API_VERSION, GET_JOB, LIST_JOBS, SUBMIT
from voxform.providers.connections import (
    Answer,
    AnswerLost,
    AnswerTimedOut,
    Connect,
    ConnectFailed,
    Connections,
    Headers,
    connector,
    wire_request,
)
from voxform.providers.credentials import Credentials
from voxform.providers.ice_params import list_params, submit_params
from voxform.state.jsonfile import JsonProblem, load_json

RETRYABLE_CODES = frozenset({"ServiceUnavailable", "InternalError"})
_REGION = re.compile(r"[a-z]{2,}(-[a-z0-9]+)+")
USER_AGENT = f"voxform/{__version__}"


def endpoint_for(region_or_url: str, *, insecure: bool = False) -> str:
    """`https://ice.<region>.aliyuncs.com` for a region; an http(s) URL is used as given.
    A URL with a user name or password is refused: requests are signed with the access key,
    and a password must not reach a message. So is plain http to a host other than this
    machine, unless `insecure` (the target's `insecure: true`)."""
    text = region_or_url.strip()
    if _REGION.fullmatch(text):
        return f"https://ice.{text}.aliyuncs.com"
    url = check_endpoint(
        "ICE",
        text,
        "neither a region (like cn-shanghai) nor a URL like https://ice.cn-shanghai.aliyuncs.com"
        " or http://127.0.0.1:8080",
        insecure=insecure,
    )
    return str(url.copy_with(path="/")).rstrip("/")


class IceClient:
    """Signs and sends ICE RPC calls; raises RetryableError, ItemError or FatalError."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        *,
        timeout: float = 30,
        connect: Connect | None = None,
        insecure: bool = False,
    ) -> None:
        self.endpoint = endpoint_for(endpoint, insecure=insecure)
        self._credentials = credentials
        self._timeout = timeout
        url = httpx.URL(self.endpoint)
        self._host = url.netloc.decode("ascii")
        self._connections = Connections(
            connect or connector(url.scheme, url.host, url.port, timeout)
        )
        self._signer = Signer(
            host=self._host,
            version=API_VERSION,
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token,
            extra_headers={"accept": "application/json", "user-agent": USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"IceClient(endpoint={self.endpoint!r}, credentials={self._credentials!r})"

    def __enter__(self) -> IceClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        self._connections.close()

    def call(
        self, action: str, params: Mapping[str, str], *, method: str = "POST"
    ) -> dict[str, object]:
        """One RPC call (params in the query, empty body); the JSON answer, or the error it
        stands for. A request that was sent and lost its answer raises UnknownOutcome."""
        try:
            answer = self._connections.exchange(self.prepare(action, params, method=method))
        except (ConnectFailed, AnswerLost) as error:
            return self.conclude(action, error)
        return self.conclude(action, answer)

    def exchange(self, request: bytes) -> Answer:
        """Send a `prepare`d request on this thread's connection; its answer (ConnectFailed,
        AnswerLost or AnswerTimedOut when there is none)."""
        return self._connections.exchange(request)

    @property
    def connect(self) -> Connect:
        """Makes one (unconnected) connection to the endpoint."""
        return self._connections.connect

    @property
    def timeout(self) -> float:
        return self._timeout

    def prepare(self, action: str, params: Mapping[str, str], *, method: str = "POST") -> bytes:
        """An RPC call signed, as it goes on the wire; AnswerLost when it cannot be sent."""
        signed = self._signer.sign(method, action, params)
        return wire_request(method, signed.path, signed.headers)

    def conclude(self, action: str, answer: Answer | Exception) -> dict[str, object]:
        """The JSON object of a call's answer, or the error its answer (or its failure to
        connect, or to be answered) stands for."""
        if isinstance(answer, Answer):
            return self._answer(action, answer)
        if isinstance(answer, ConnectFailed):
            if answer.timed_out:
                raise RetryableError(
                    f"{action}: no connection to the ICE endpoint {self.endpoint} within"
                    f" {self._timeout:g} s"
                ) from answer
            raise RetryableError(
                f"{action}: cannot connect to the ICE endpoint {self.endpoint}:"
                f" {self._scrub(answer)}"
            ) from answer
        if isinstance(answer, AnswerTimedOut):
            raise UnknownOutcome(
                f"{action}: the ICE endpoint {self.endpoint} did not answer within"
                f" {self._timeout:g} s"
            ) from answer
        if isinstance(answer, AnswerLost):
            raise UnknownOutcome(
                f"{action}: connection to the ICE endpoint {self.endpoint} failed:"
                f" {self._scrub(answer)}"
            ) from answer
        raise answer

    def _scrub(self, error: Exception) -> str:
        """An exception's text as a message may carry it: the HTTP library quotes what it
        refuses (a header value), so the secret and token are blanked out, and URLs lose
        their user name and password."""
        text = str(error)
        for secret in (self._credentials.access_key_secret, self._credentials.security_token):
            if secret:
                text = text.replace(secret, "***")
        return redact(text)

    def _answer(self, action: str, response: Answer) -> dict[str, object]:
        """The JSON object of a 2xx answer, or the error it stands for."""
        try:
            body = load_json(response.body)
        except JsonProblem:  # not JSON, not UTF-8, or nested past reading
            body = None
        if not isinstance(body, dict):
            raise RetryableError(
                f"{action}: {self.endpoint} answered HTTP {response.status} with a body"
                " that is not a JSON object (a proxy or gateway page?)",
                code=f"HTTP{response.status}",
                retry_after=_retry_after(response.headers),
            )
        if 200 <= response.status < 300:
            return body
        raise self._error(action, response, body)

    def _error(self, action: str, response: Answer, body: dict[str, object]) -> ProviderError:
        """The voxform error for an ICE error answer."""
        code = _text(body.get("Code")) or f"HTTP{response.status}"
        message = _text(body.get("Message"))
        request_id = _text(body.get("RequestId"))
        told = f"{action}: {code}: {message} (HTTP {response.status}, request {request_id})"
        source = self._credentials.source
        key_id = self._credentials.access_key_id
        if code.startswith("Throttling"):
            return ThrottledError(
                told, code=code, request_id=request_id, retry_after=_retry_after(response.headers)
            )
        if code in RETRYABLE_CODES or response.status >= 500:
            return RetryableError(
                told, code=code, request_id=request_id, retry_after=_retry_after(response.headers)
            )
        if code.startswith("InvalidAccessKeyId"):
            return FatalError(
                f"{told}: ICE does not know the access key id {key_id!r} from {source}",
                code=code,
                request_id=request_id,
            )
        if code == "SignatureDoesNotMatch":
            return FatalError(
                f"{told}: check the access key secret for {key_id!r} from {source}",
                code=code,
                request_id=request_id,
            )
        if code.startswith("InvalidSecurityToken"):
            return FatalError(
                f"{told}: the STS token from {source} is invalid or expired",
                code=code,
                request_id=request_id,
            )
        if code.startswith("InvalidTimeStamp"):
            return FatalError(
                f"{told}: this machine's clock is more than 15 minutes off the service's time"
                f" (server Date: {response.headers.get('date', 'unknown')}); set the clock right",
                code=code,
                request_id=request_id,
            )
        return ItemError(told, code=code, request_id=request_id)

    def submit_audio_produce_job(
        self,
        *,
        input_config: str,
        editing_config: str,
        output_config: str,
        title: str | None = None,
        description: str | None = None,
        user_data: str | None = None,
        overwrite: bool | None = None,
    ) -> dict[str, object]:
        """SubmitAudioProduceJob with JSON-string configs; answers JobId, MediaId, State."""
        params = submit_params(
            input_config=input_config,
            editing_config=editing_config,
            output_config=output_config,
            title=title,
            description=description,
            user_data=user_data,
            overwrite=overwrite,
        )
        return self.call(SUBMIT, params)

    def get_smart_handle_job(self, job_id: str) -> dict[str, object]:
        """GetSmartHandleJob: the job's State, JobResult and SmartJobInfo."""
        return self.call(GET_JOB, {"JobId": job_id})

    def list_smart_jobs(
        self, *, next_token: str | None = None, max_results: int = 100
    ) -> dict[str, object]:
        """ListSmartJobs of audio production, newest first: SmartJobList and NextToken."""
        return self.call(LIST_JOBS, list_params(next_token, max_results), method="GET")


def _text(value: object) -> str:
    """A string field of an answer; anything else (a number, a list, null) as empty."""
    return value if isinstance(value, str) else ""


def _retry_after(headers: Headers) -> float | None:
    """Seconds to wait: `x-acs-retry-after` is milliseconds, a standard Retry-After seconds.
    Only a finite number of 0 or more counts; how much of it is honoured is the retry
    policy's decision (apply/retry.py)."""
    for name, scale in (("x-acs-retry-after", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None
