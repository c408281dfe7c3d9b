"""Submissions checked like ICE checks them, and jobs moving Created -> Executing -> Finished.

Jobs live in memory only. A job becomes Executing after half the latency and ends no sooner
than the whole latency after submission, or when synthesis is done if that takes longer.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from voxform.emulator.faults import Faults
from voxform.engine.client import EspeakEngine
from voxform.errors import ItemError, PathEscapeError, VoxformError
from voxform.files import write_atomic
from voxform.ice.limits import SAMPLE_RATES
from voxform.ice.signing import DATE_FORMAT
from voxform.ice.wire import AudioFormat, EditingConfig
from voxform.paths import inside

State = Literal["Created", "Executing", "Finished", "Failed"]
STATES: tuple[State, ...] = ("Created", "Executing", "Finished", "Failed")
DEFAULT_SAMPLE_RATE = 16000
# What --fail-jobs leaves in ErrorCode and ErrorMessage.
INJECTED_FAILURE = (
    "TTS.SynthesisFailed",
    "The speech synthesis failed; the emulator injected this failure (--fail-jobs).",
)

_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_SAMPLE_RATE = re.compile(
    r"""^\s*(?:<\?xml[^>]*>\s*)?<speak\b[^>]*?\ssampleRate\s*=\s*["']([^"']*)["']"""
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ApiError(VoxformError):
    """An error answer: HTTP status, ICE error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


@dataclass(frozen=True)
class Submission:
    """A SubmitAudioProduceJob call whose parameters passed every check."""

    input: str
    editing: EditingConfig
    sample_rate: int
    bucket: str
    object: str
    title: str
    description: str
    user_data: str

    @property
    def key(self) -> str:
        """The stored object's key, extension included (the service appends it)."""
        return f"{self.bucket}/{self.object}.{self.editing.format}"


def required(params: Mapping[str, str], name: str) -> str:
    """A parameter that must be present and not empty (`Missing<Name>` otherwise)."""
    value = params.get(name, "")
    if not value:
        raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
    return value


def parse_submission(params: Mapping[str, str], max_input_chars: int) -> Submission:
    """Check SubmitAudioProduceJob's parameters; ApiError names the first problem."""
    text = required(params, "InputConfig")
    editing = _json_object("EditingConfig", required(params, "EditingConfig"))
    output = _json_object("OutputConfig", required(params, "OutputConfig"))
    if len(text) > max_input_chars:
        raise invalid(
            f"InputConfig is {len(text)} characters long; at most {max_input_chars} are allowed."
        )
    fmt = editing.get("format", "MP3")
    if not isinstance(fmt, str) or fmt.upper() not in ("PCM", "WAV", "MP3"):
        raise invalid(f"EditingConfig.format must be PCM, WAV or MP3, not {fmt!r}.")
    lower: AudioFormat = "pcm" if fmt.upper() == "PCM" else "wav" if fmt.upper() == "WAV" else "mp3"
    title = _limited(params, "Title", 128)
    description = _limited(params, "Description", 1024)
    user_data = _limited(params, "UserData", 512)
    if user_data:
        _json_object("UserData", user_data)
    if params.get("Overwrite", "true").lower() not in ("true", "false"):
        raise invalid(f"Overwrite must be true or false, not {params['Overwrite']!r}.")
    bucket, key = output.get("bucket"), output.get("object")
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
        raise invalid(
            f"OutputConfig.bucket {bucket!r} is not a valid OSS bucket name "
            "(3-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen)."
        )
    return Submission(
        input=text,
        editing=EditingConfig(
            voice=_optional_text(editing, "voice"),
            customized_voice=_optional_text(editing, "customizedVoice"),
            format=lower,
            volume=_whole(editing, "volume", 50, 0, 100),
            speech_rate=_whole(editing, "speech_rate", 0, -500, 500),
            pitch_rate=_whole(editing, "pitch_rate", 0, -500, 500),
        ),
        sample_rate=_sample_rate(text),
        bucket=bucket,
        object=_object_key(key),
        title=title,
        description=description,
        user_data=user_data,
    )


def _json_object(name: str, value: str) -> dict[str, object]:
    try:
        document = json.loads(value)
    except json.JSONDecodeError as exc:
        raise invalid(f"{name} is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise invalid(f"{name} must be a JSON object.")
    return document


def _limited(params: Mapping[str, str], name: str, limit: int) -> str:
    value = params.get(name, "")
    size = len(value.encode("utf-8"))
    if size > limit:
        raise invalid(f"{name} is {size} bytes long in UTF-8; at most {limit} are allowed.")
    return value


def _optional_text(editing: Mapping[str, object], name: str) -> str | None:
    value = editing.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(f"EditingConfig.{name} must be a string, not {value!r}.")
    return value


def _whole(editing: Mapping[str, object], name: str, default: int, low: int, high: int) -> int:
    value = editing.get(name, default)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,6}", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(
            f"EditingConfig.{name} must be a whole number from {low} to {high}, not {value!r}."
        )
    return value


def _object_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise invalid("OutputConfig.object must be a non-empty string.")
    parts = key.split("/")
    if (
        len(key.encode("utf-8")) > 1000
        or _CONTROL.search(key)
        or "\\" in key
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise invalid(
            f"OutputConfig.object {key!r} is not a valid object key (at most 1000 bytes, no "
            "control characters or backslashes, no empty, '.' or '..' path segments)."
        )
    return key


def _sample_rate(text: str) -> int:
    match = _SAMPLE_RATE.match(text)
    if match is None:
        return DEFAULT_SAMPLE_RATE
    if match.group(1) not in {str(rate) for rate in SAMPLE_RATES}:
        raise invalid(f'<speak sampleRate="{match.group(1)}"> must be 8000, 16000, 24000 or 48000.')
    return int(match.group(1))


@dataclass
class Job:
    """One audio job; mutated only under the store's lock."""

    job_id: str
    media_id: str
    user_id: str
    submission: Submission
    doomed: bool  # --fail-jobs picked it
    created: str
    due: float  # monotonic time before which it does not end
    state: State = "Created"
    modified: str = ""
    error_code: str = ""
    error_message: str = ""
    ai_result: str = ""

    def answer(self, media_base: str) -> dict[str, object]:
        """The GetSmartHandleJob answer (without RequestId)."""
        sub = self.submission
        result: dict[str, object] = {"MediaId": self.media_id}
        if self.state == "Finished":
            result["MediaUrl"] = f"{media_base}/{_quote_key(sub.key)}"
            result["AiResult"] = self.ai_result
            result["Usage"] = json.dumps({"characters": len(sub.input)})
        answer: dict[str, object] = {
            "JobId": self.job_id,
            "State": self.state,
            "UserData": sub.user_data,
            "Output": result.get("MediaUrl", ""),
            "JobResult": result,
            "SmartJobInfo": {
                "Title": sub.title,
                "Description": sub.description,
                "UserId": self.user_id,
                "JobType": "TextToSpeech",
                "CreateTime": self.created,
                "ModifiedTime": self.modified,
                "InputConfig": {"InputFile": sub.input},
                "OutputConfig": {"Bucket": sub.bucket, "Object": sub.object},
            },
        }
        if self.state == "Failed":
            answer["ErrorCode"] = self.error_code
            answer["ErrorMessage"] = self.error_message
        return answer


def _quote_key(key: str) -> str:
    return quote(key, safe="/")


class _Timeline:
    """Runs short callbacks at given monotonic times, on one thread."""

    def __init__(self) -> None:
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="voxform-emulator-timeline")
        self._thread.daemon = True
        self._thread.start()

    def at(self, when: float, action: Callable[[], None]) -> None:
        with self._wake:
            heapq.heappush(self._events, (when, next(self._order), action))
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and (
                    not self._events or self._events[0][0] > time.monotonic()
                ):
                    timeout = self._events[0][0] - time.monotonic() if self._events else None
                    self._wake.wait(timeout)
                if self._closed:
                    return
                _, _, action = heapq.heappop(self._events)
            action()


class JobStore:
    """Accepts submissions, synthesizes them into `storage` and answers for their state."""

    def __init__(
        self,
        engine: EspeakEngine,
        storage: Path,
        *,
        latency: float,
        faults: Faults,
        clock: Callable[[], datetime],
    ) -> None:
        self.storage = storage
        self.latency = latency
        self._engine = engine
        self._faults = faults
        self._clock = clock
        self._jobs: dict[str, Job] = {}
        self._submissions: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._timeline = _Timeline()
        self._pool = ThreadPoolExecutor(engine.workers, thread_name_prefix="voxform-emulator-job")

    def submit(self, submission: Submission, user_id: str) -> Job:
        """Create a job in state Created and schedule its life."""
        now = self._stamp()
        job = Job(
            job_id=uuid.uuid4().hex,
            media_id=uuid.uuid4().hex,
            user_id=user_id,
            submission=submission,
            doomed=self._faults.job_fails(),
            created=now,
            modified=now,
            due=time.monotonic() + self.latency,
        )
        with self._lock:
            self._jobs[job.job_id] = job
            self._submissions[f"{submission.bucket}/{submission.object}"] += 1
        self._timeline.at(job.due - self.latency / 2, lambda: self._start(job))
        return job

    def answer(self, job_id: str, media_base: str) -> dict[str, object] | None:
        """The job's GetSmartHandleJob answer, or None for an unknown id."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.answer(media_base)

    def stats(self) -> dict[str, dict[str, int]]:
        """Accepted submissions per `<bucket>/<object>` and jobs per state."""
        with self._lock:
            states = Counter(job.state for job in self._jobs.values())
            return {
                "submissions": dict(sorted(self._submissions.items())),
                "jobs": {state: states[state] for state in STATES},
            }

    def close(self) -> None:
        """Stop scheduling; synthesis still running fails once the engine closes."""
        self._timeline.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def join(self, timeout: float) -> None:
        """Wait (bounded) for running syntheses to end."""
        waiter = threading.Thread(target=self._pool.shutdown, kwargs={"wait": True}, daemon=True)
        waiter.start()
        waiter.join(timeout)

    def _start(self, job: Job) -> None:
        self._update(job, "Executing")
        if job.doomed:
            self._timeline.at(job.due, lambda: self._update(job, "Failed", *INJECTED_FAILURE))
        else:
            with contextlib.suppress(RuntimeError):  # the pool has shut down
                self._pool.submit(self._synthesize, job)

    def _synthesize(self, job: Job) -> None:
        sub = job.submission
        try:
            target = inside(self.storage, sub.key)
            synthesis = self._engine.synthesize_config(sub.input, sub.editing, sub.sample_rate)
            write_atomic(target, synthesis.audio)
        except ItemError as exc:
            code = "InvalidParameter" if exc.code == "InvalidParameter" else INJECTED_FAILURE[0]
            outcome: tuple[State, str, str] = ("Failed", code, str(exc))
        except (VoxformError, PathEscapeError, OSError) as exc:
            outcome = ("Failed", "InternalError", f"The job failed on an internal error: {exc}")
        else:
            timings = [
                {"content": s.content, "from": s.start, "to": s.end} for s in synthesis.segments
            ]
            outcome = ("Finished", "", json.dumps(timings, ensure_ascii=False))
        self._timeline.at(job.due, lambda: self._update(job, *outcome))

    def _update(self, job: Job, state: State, code: str = "", detail: str = "") -> None:
        """Move `job` to `state`: `detail` is the error message if failed, else the AiResult."""
        with self._lock:
            job.state, job.error_code = state, code
            if state == "Failed":
                job.error_message = detail
            else:
                job.ai_result = detail
            job.modified = self._stamp()

    def _stamp(self) -> str:
        return self._clock().strftime(DATE_FORMAT)
