"""The ICE provider: SubmitAudioProduceJob into OSS, results from GetSmartHandleJob, lost
submissions found again with ListSmartJobs by the token they carry in UserData."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from voxform.errors import FatalError, RetryableError, UnknownOutcome
from voxform.ice.signing import DATE_FORMAT
from voxform.ice.wire import (
    FINAL_STATES,
    GET_JOB,
    LIST_JOBS,
    SUBMIT,
    AudioRequest,
    parse_ai_result,
    token_of,
    with_token,
)
from voxform.manifest.model import Target
from voxform.providers.connections import Answer, AnswerLost, ConnectFailed
from voxform.providers.credentials import load_credentials
from voxform.providers.ice_params import list_params, submit_params

if TYPE_CHECKING:
    from voxform.providers.ice_client import IceClient

from voxform.providers.protocol import (
    JobPage,
    JobResult,
    ListedJob,
    Operation,
    Resources,
)

DEFAULT_REGION = "cn-shanghai"
ENDPOINT_ENV = "VOXFORM_ICE_ENDPOINT"


def ice_endpoint(target: Target) -> str:
    """VOXFORM_ICE_ENDPOINT, else the target's endpoint, else its region's public host."""
    return os.environ.get(ENDPOINT_ENV) or target.endpoint or target.region or DEFAULT_REGION


T = TypeVar("T")


@dataclass(frozen=True)
class Rpc(Generic[T]):
    """A call ready to send: its request as it goes on the wire, and `finish`, which makes
    its value of the answer (or of the failure to connect or to be answered) or raises the
    error it stands for. `problem`: the request cannot be sent (hand it to `finish`)."""

    wire: bytes
    finish: Callable[[Answer | Exception], T]
    problem: AnswerLost | None = None


class IceProvider:
    """One ICE target: jobs are durable at the service, so their ids go to the lockfile."""

    kind = "ice"
    durable_jobs = True
    files_in_project = False
    billed = True
    operations: Mapping[Operation, str] = {"submit": SUBMIT, "check": GET_JOB, "list": LIST_JOBS}

    def __init__(self, client: IceClient) -> None:
        self.client = client
        self._reached = False
        self._media: dict[str, str] = {}
        self._guard = threading.Lock()

    def __enter__(self) -> IceProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def for_target(cls, target: Target, resources: Resources) -> IceProvider:
        # Here: a plan reads the target's facts alone, and needs no HTTP client.
        from voxform.providers.ice_client import IceClient

        credentials = resources.shared(
            "ice-credentials", lambda: load_credentials(resources.profile)
        )
        return cls(IceClient(ice_endpoint(target), credentials, insecure=target.insecure))

    @classmethod
    def engine_version(cls) -> str | None:
        """The service's engine is not ours to name."""
        return None

    @classmethod
    def describe(cls, target: Target, request: AudioRequest) -> dict[str, object]:
        """The SubmitAudioProduceJob call, configs shown as objects."""
        return {"Action": SUBMIT, **request.document()}

    @classmethod
    def subtitle_dir(cls, target: Target) -> str:
        """Audio lives in OSS; its subtitles are kept in the project, per target."""
        return f"subtitles/{target.name}"

    @classmethod
    def output_files(cls, target: Target, request: AudioRequest) -> tuple[str, ...]:
        """Only the subtitles: the audio is an object in the bucket."""
        base = f"{cls.subtitle_dir(target)}/{request.object_key}"
        return (f"{base}.vtt", f"{base}.srt")

    def submit(self, request: AudioRequest, token: str) -> str:
        return self.run(self.submit_call(request, token))

    def check(self, job_id: str, request: AudioRequest) -> JobResult | None:
        """One GetSmartHandleJob: the result once the job is Finished or Failed."""
        return self.run(self.check_call(job_id, request))

    def list_jobs(self, page: str | None) -> JobPage:
        """One ListSmartJobs page of audio jobs, newest first."""
        return self.run(self._rpc(LIST_JOBS, list_params(page), self._page, method="GET"))

    def close(self) -> None:
        self.client.close()

    # A call in two halves, for a caller that sends many at once on connections of its own
    # (apply's event loop): the request's bytes, then what its answer means.

    def submit_call(self, request: AudioRequest, token: str) -> Rpc[str]:
        """SubmitAudioProduceJob of `request`, carrying `token`; its value is the job id."""
        params = submit_params(
            input_config=request.input,
            editing_config=request.editing.to_json(),
            output_config=request.output_config_json(),
            title=request.title,
            description=request.description,
            user_data=with_token(request.user_data, token),
            overwrite=True,
        )
        return self._rpc(SUBMIT, params, self._submitted)

    def check_call(self, job_id: str, request: AudioRequest) -> Rpc[JobResult | None]:
        """GetSmartHandleJob of `job_id`; its value is the result once the job is final."""
        return self._rpc(GET_JOB, {"JobId": job_id}, lambda answer: self._checked(job_id, answer))

    def run(self, rpc: Rpc[T]) -> T:
        """Make the call on this thread's connection; its value."""
        if rpc.problem is not None:
            return rpc.finish(rpc.problem)
        try:
            answer = self.client.exchange(rpc.wire)
        except (ConnectFailed, AnswerLost) as error:
            return rpc.finish(error)
        return rpc.finish(answer)

    def _rpc(
        self,
        action: str,
        params: Mapping[str, str],
        value: Callable[[dict[str, object]], T],
        *,
        method: str = "POST",
    ) -> Rpc[T]:
        def finish(answer: Answer | Exception) -> T:
            return value(self._reply(action, answer))

        try:
            return Rpc(self.client.prepare(action, params, method=method), finish)
        except AnswerLost as problem:
            return Rpc(b"", finish, problem)

    def _reply(self, action: str, answer: Answer | Exception) -> dict[str, object]:
        """The JSON object of an answer; the first call that cannot connect at all is fatal
        (a wrong endpoint), later ones only transient."""
        try:
            reply = self.client.conclude(action, answer)
        except RetryableError as exc:
            cause = exc.__cause__
            if not self._reached and isinstance(cause, ConnectFailed) and not cause.timed_out:
                raise FatalError(
                    f"cannot reach the ICE endpoint {self.client.endpoint}: check the target's "
                    "region or endpoint (or VOXFORM_ICE_ENDPOINT) and the network",
                    code="EndpointUnreachable",
                ) from None
            raise
        self._reached = True
        return reply

    def _submitted(self, answer: dict[str, object]) -> str:
        job_id = _text(answer.get("JobId"))
        if not job_id or not job_id.isprintable():
            request_id = _text(answer.get("RequestId")) or "unknown"
            raise UnknownOutcome(f"{SUBMIT} answered without a usable JobId (request {request_id})")
        media = _text(answer.get("MediaId"))
        if media:
            with self._guard:
                self._media[job_id] = media
        return job_id

    def _checked(self, job_id: str, answer: dict[str, object]) -> JobResult | None:
        if answer.get("State") not in FINAL_STATES:
            return None
        return self._result(job_id, answer)

    def _page(self, answer: dict[str, object]) -> JobPage:
        listed = answer.get("SmartJobList")
        jobs = []
        for job in listed if isinstance(listed, list) else []:
            if not isinstance(job, dict):
                continue
            job_id = _text(job.get("JobId"))
            if job_id and job_id.isprintable():
                jobs.append(ListedJob(job_id, token_of(job.get("UserData")), _epoch(job)))
        return JobPage(tuple(jobs), _text(answer.get("NextToken")))

    def _result(self, job_id: str, answer: dict[str, object]) -> JobResult:
        """A final job as the lockfile records it: only strings where strings go, and the
        timings that make sense (see parse_ai_result); an answer that is otherwise odd
        never fails an item whose audio the service has made."""
        result = answer.get("JobResult")
        result = result if isinstance(result, dict) else {}
        with self._guard:
            media_id = _text(result.get("MediaId")) or self._media.pop(job_id, None)
        if answer.get("State") == "Failed":
            return JobResult(
                state="failed",
                job_id=job_id,
                media_id=media_id or None,
                error_code=_text(answer.get("ErrorCode")) or "JobFailed",
                error_message=_text(answer.get("ErrorMessage")) or "the job failed",
            )
        segments = parse_ai_result(result.get("AiResult"))
        return JobResult(
            state="finished",
            job_id=job_id,
            media_id=media_id or None,
            url=_text(result.get("MediaUrl")) or None,
            duration=round(max(s.end for s in segments), 3) if segments else None,
            segments=segments,
        )


def _text(value: object) -> str | None:
    """A string of the answer as the lockfile can hold it (a lone surrogate, which a JSON
    escape can spell, becomes '?'); None for anything else."""
    if not isinstance(value, str):
        return None
    return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")


def _epoch(job: dict[str, object]) -> float | None:
    """A listed job's CreateTime as seconds since the epoch (None when unreadable)."""
    stamp = job.get("CreateTime")
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.strptime(stamp, DATE_FORMAT).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
