"""The ICE provider: SubmitAudioProduceJob into OSS, results from GetSmartHandleJob, lost
submissions found again with ListSmartJobs by the token they carry in UserData."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

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
from voxform.providers.connections import ConnectFailed
from voxform.providers.credentials import load_credentials

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
        answer = self._call(
            lambda: self.client.submit_audio_produce_job(
                input_config=request.input,
                editing_config=request.editing.to_json(),
                output_config=request.output_config_json(),
                title=request.title,
                description=request.description,
                user_data=with_token(request.user_data, token),
                overwrite=True,
            )
        )
        job_id = _text(answer.get("JobId"))
        if not job_id or not job_id.isprintable():
            request_id = _text(answer.get("RequestId")) or "unknown"
            raise UnknownOutcome(f"{SUBMIT} answered without a usable JobId (request {request_id})")
        media = _text(answer.get("MediaId"))
        if media:
            with self._guard:
                self._media[job_id] = media
        return job_id

    def check(self, job_id: str, request: AudioRequest) -> JobResult | None:
        """One GetSmartHandleJob: the result once the job is Finished or Failed."""
        answer = self._call(lambda: self.client.get_smart_handle_job(job_id))
        if answer.get("State") not in FINAL_STATES:
            return None
        return self._result(job_id, answer)

    def list_jobs(self, page: str | None) -> JobPage:
        """One ListSmartJobs page of audio jobs, newest first."""
        answer = self._call(lambda: self.client.list_smart_jobs(next_token=page))
        listed = answer.get("SmartJobList")
        jobs = []
        for job in listed if isinstance(listed, list) else []:
            if not isinstance(job, dict):
                continue
            job_id = _text(job.get("JobId"))
            if job_id and job_id.isprintable():
                jobs.append(ListedJob(job_id, token_of(job.get("UserData")), _epoch(job)))
        return JobPage(tuple(jobs), _text(answer.get("NextToken")))

    def close(self) -> None:
        self.client.close()

    def _call(self, call: Callable[[], dict[str, object]]) -> dict[str, object]:
        try:
            answer = call()
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
        return answer

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
