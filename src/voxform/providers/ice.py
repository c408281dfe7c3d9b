"""The ICE provider: SubmitAudioProduceJob into OSS, results from GetSmartHandleJob."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import httpx

from voxform.errors import FatalError, Interrupted, ItemError, RetryableError
from voxform.ice.wire import AudioRequest, parse_ai_result
from voxform.manifest.model import Target
from voxform.providers.credentials import load_credentials
from voxform.providers.ice_client import IceClient
from voxform.providers.protocol import JobResult, Resources

FINAL_STATES = ("Finished", "Failed")
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

    def __init__(
        self,
        client: IceClient,
        *,
        poll_interval: float = 0.2,
        poll_cap: float = 5.0,
        job_timeout: float = 3600.0,
    ) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self.poll_cap = poll_cap
        self.job_timeout = job_timeout
        self.cancelled = threading.Event()
        self._reached = False
        self._media: dict[str, str] = {}

    def __enter__(self) -> IceProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def for_target(cls, target: Target, resources: Resources) -> IceProvider:
        credentials = resources.shared(
            "ice-credentials", lambda: load_credentials(resources.profile)
        )
        return cls(IceClient(ice_endpoint(target), credentials))

    @classmethod
    def engine_version(cls) -> str | None:
        """The service's engine is not ours to name."""
        return None

    @classmethod
    def subtitle_dir(cls, target: Target) -> str:
        """Audio lives in OSS; its subtitles are kept in the project, per target."""
        return f"subtitles/{target.name}"

    def submit(self, request: AudioRequest) -> str:
        answer = self._call(
            lambda: self.client.submit_audio_produce_job(
                input_config=request.input,
                editing_config=request.editing.to_json(),
                output_config=request.output_config_json(),
                title=request.title,
                description=request.description,
                user_data=request.user_data,
                overwrite=True,
            )
        )
        job_id = answer.get("JobId")
        if not isinstance(job_id, str) or not job_id:
            raise RetryableError(f"SubmitAudioProduceJob answered without a JobId: {answer}")
        media = answer.get("MediaId")
        if isinstance(media, str):
            self._media[job_id] = media
        return job_id

    def wait(self, job_id: str, request: AudioRequest) -> JobResult:
        """Poll with growing intervals until the job is Finished or Failed."""
        deadline = time.monotonic() + self.job_timeout
        interval = self.poll_interval
        while True:
            answer = self._call(lambda: self.client.get_smart_handle_job(job_id))
            state = answer.get("State")
            if state in FINAL_STATES:
                return self._result(job_id, answer)
            if time.monotonic() > deadline:
                raise ItemError(
                    f"job {job_id} still {state} after {self.job_timeout:g} s; "
                    "`voxform apply` later resumes it",
                    code="JobTimeout",
                )
            if self.cancelled.wait(interval):
                raise Interrupted(f"stopped waiting for job {job_id}")
            interval = min(self.poll_cap, interval * 1.5)

    def cancel(self) -> None:
        """Stop waiting for jobs (they go on at the service)."""
        self.cancelled.set()

    def close(self) -> None:
        self.client.close()

    def _call(self, call: Callable[[], dict[str, object]]) -> dict[str, object]:
        try:
            answer = call()
        except RetryableError as exc:
            if not self._reached and isinstance(exc.__cause__, httpx.ConnectError):
                raise FatalError(
                    f"cannot reach the ICE endpoint {self.client.endpoint}: check the target's "
                    "region or endpoint (or VOXFORM_ICE_ENDPOINT) and the network",
                    code="EndpointUnreachable",
                ) from None
            raise
        self._reached = True
        return answer

    def _result(self, job_id: str, answer: dict[str, object]) -> JobResult:
        result = answer.get("JobResult")
        result = result if isinstance(result, dict) else {}
        media_id = result.get("MediaId") or self._media.get(job_id)
        if answer.get("State") == "Failed":
            return JobResult(
                state="failed",
                job_id=job_id,
                media_id=str(media_id) if media_id else None,
                error_code=str(answer.get("ErrorCode") or "JobFailed"),
                error_message=str(answer.get("ErrorMessage") or "the job failed"),
            )
        segments = parse_ai_result(result.get("AiResult"))
        return JobResult(
            state="finished",
            job_id=job_id,
            media_id=str(media_id) if media_id else None,
            url=str(result.get("MediaUrl")) if result.get("MediaUrl") else None,
            duration=round(segments[-1].end, 3) if segments else None,
            segments=segments,
        )

