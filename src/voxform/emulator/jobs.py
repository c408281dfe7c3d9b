"""The emulator's jobs: each moves Created -> Executing -> Finished or Failed on a clock.

A submission that passed its checks becomes a job here. Jobs live in memory only, in
creation order (ListSmartJobs walks them; see `listing`). A job becomes Executing after
half the latency and ends no sooner than the whole latency after submission, or when
synthesis (audio written into the OSS stand-in) is done if that takes longer, so clients see
the service's states and timing without a cloud account. Counts per state are kept as jobs
move, so stats and listings cost the same with ten jobs or ten thousand.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from voxform.beneath import create_beneath
from voxform.emulator.faults import Faults
from voxform.emulator.ids import random_hex
from voxform.emulator.listing import PageTokens, parse_listing, walk
from voxform.emulator.submission import Submission
from voxform.emulator.synthesis import Synthesizer
from voxform.emulator.timeline import Timeline
from voxform.errors import ItemError, PathEscapeError, VoxformError
from voxform.files import write_atomic
from voxform.ice.signing import DATE_FORMAT
from voxform.ice.wire import JOB_TYPE, ai_result
from voxform.paths import inside

State = Literal["Created", "Executing", "Finished", "Failed"]
STATES: tuple[State, ...] = ("Created", "Executing", "Finished", "Failed")
# What --fail-jobs leaves in ErrorCode and ErrorMessage.
INJECTED_FAILURE = (
    "TTS.SynthesisFailed",
    "The speech synthesis failed; the emulator injected this failure (--fail-jobs).",
)


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
                "JobType": JOB_TYPE,
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

    def listed(self) -> dict[str, object]:
        """The job as a ListSmartJobs entry: no MediaUrl or AiResult."""
        sub = self.submission
        return {
            "JobId": self.job_id,
            "JobState": self.state,
            "JobType": JOB_TYPE,
            "Title": sub.title,
            "Description": sub.description,
            "UserData": sub.user_data,
            "UserId": self.user_id,
            "CreateTime": self.created,
            "ModifiedTime": self.modified,
            "InputConfig": {"InputFile": sub.input},
            "EditingConfig": sub.editing_json,
            "OutputConfig": {"Bucket": sub.bucket, "Object": sub.object},
        }


SERIAL_DELAY = 0.01  # seconds a serial synthesis waits for others to share its wake-up
_FOLDER = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def store_audio(target: Path, audio: bytes) -> None:
    """Write a job's audio into the OSS stand-in (`target` resolved inside it), unsynced: a
    stand-in, not a store. A new object is created and written in place, since no one reads
    it before its job has ended (a temporary file and a rename cost the emulator a third of
    its CPU per job); one that is there already is replaced atomically, as it may be read."""
    try:
        fd = _create(target)
    except FileExistsError:  # there before, or made meanwhile by a job for the same object
        write_atomic(target, audio, durable=False)
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(audio)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(target)
        raise


def _create(target: Path) -> int:
    """`target` made anew for writing (its folders too); FileExistsError if it is there."""
    try:
        return os.open(target, _NEW, 0o666)
    except FileNotFoundError:  # its folder is new
        target.parent.mkdir(parents=True, exist_ok=True)
        return os.open(target, _NEW, 0o666)


def _quote_key(key: str) -> str:
    return quote(key, safe="/")


class JobStore:
    """Accepts submissions, synthesizes them into `storage` and answers for their state."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        storage: Path,
        *,
        latency: float,
        faults: Faults,
        clock: Callable[[], datetime],
        written: Callable[[str, bytes, os.stat_result | None], None] | None = None,
    ) -> None:
        self.storage = storage
        self._root = str(storage)
        self._written = written  # told of each audio file written (the OSS store's digests)
        self.latency = latency
        self._synthesizer = synthesizer
        self._faults = faults
        self._clock = clock
        self._jobs: dict[str, Job] = {}
        self._order: list[Job] = []  # creation order; a job's index never changes
        self._states: Counter[str] = Counter()
        self._submissions: Counter[str] = Counter()
        self._tokens = PageTokens()
        self._lock = threading.Lock()
        # The pool first: if it cannot be made, no timeline thread is left behind.
        self._pool = ThreadPoolExecutor(
            synthesizer.workers, thread_name_prefix="voxform-emulator-job"
        )
        self._timeline = Timeline()
        # Quick syntheses (silence) run in turn on a thread of their own, which takes all
        # that are queued when it wakes: handed to the pool one by one, each job cost a
        # Future, a wake-up and a thread switch; run on the clock's thread, they held up
        # the state changes queued behind them, and jobs ended late.
        self._serial = Timeline() if synthesizer.serial else None
        self._stamped: tuple[datetime | None, str] = (None, "")
        self._storage_fd: int | None = None  # opened at the first job's audio

    def submit(self, submission: Submission, user_id: str) -> Job:
        """Create a job in state Created and schedule its life."""
        job_id, media_id = random_hex(), random_hex()
        doomed = self._faults.job_fails()
        with self._lock:  # creation times follow the creation order
            now = self._stamp()
            job = Job(
                job_id=job_id,
                media_id=media_id,
                user_id=user_id,
                submission=submission,
                doomed=doomed,
                created=now,
                modified=now,
                due=time.monotonic() + self.latency,
            )
            self._jobs[job_id] = job
            self._order.append(job)
            self._states[job.state] += 1
            self._submissions[f"{submission.bucket}/{submission.object}"] += 1
        self._timeline.at(job.due - self.latency / 2, lambda: self._start(job))
        return job

    def answer(self, job_id: str, media_base: str) -> dict[str, object] | None:
        """The job's GetSmartHandleJob answer, or None for an unknown id."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else job.answer(media_base)

    def listing(self, params: Mapping[str, str]) -> dict[str, object]:
        """The ListSmartJobs answer (without RequestId); ApiError for bad parameters."""
        query = parse_listing(params, self._tokens, STATES)
        state = query.job_state

        def in_state(job: Job) -> bool:
            return job.state == state

        page: list[Job] = []
        following: int | None = None
        total = 0
        with self._lock:
            if query.job_type in (None, JOB_TYPE):
                page, following = walk(self._order, query, None if state is None else in_state)
                total = len(self._order) if state is None else self._states[state]
            entries = [job.listed() for job in page]
        token = "" if following is None else self._tokens.encode(query.descending, following)
        return {
            "SmartJobList": entries,
            "NextToken": token,
            "MaxResults": query.size,
            "TotalCount": total,
        }

    def stats(self) -> dict[str, dict[str, int]]:
        """Accepted submissions per `<bucket>/<object>` and jobs per state."""
        with self._lock:
            return {
                "submissions": dict(sorted(self._submissions.items())),
                "jobs": {state: self._states[state] for state in STATES},
            }

    def close(self) -> None:
        """Stop scheduling; synthesis still running fails once the engine closes."""
        self._timeline.close()
        if self._serial is not None:
            self._serial.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def join(self, timeout: float) -> None:
        """Wait (bounded) for running syntheses to end; then close the storage folder."""
        waiter = threading.Thread(target=self._pool.shutdown, kwargs={"wait": True}, daemon=True)
        waiter.start()
        waiter.join(timeout)
        serial_done = self._serial is None or not self._serial.running
        with self._lock:
            fd, self._storage_fd = self._storage_fd, -1  # -1: never opened again
        # A synthesis still running could meet the number reused by another folder: the
        # descriptor is then left open rather than closed under it.
        if fd is not None and fd >= 0 and not waiter.is_alive() and serial_done:
            os.close(fd)

    def _start(self, job: Job) -> None:
        self._update(job, "Executing")
        if job.doomed:
            self._timeline.at(job.due, lambda: self._update(job, "Failed", *INJECTED_FAILURE))
        elif self._serial is not None:
            # In turn, a little later: the jobs of those milliseconds share a wake-up.
            self._serial.at(time.monotonic() + SERIAL_DELAY, lambda: self._synthesize(job))
        else:
            with contextlib.suppress(RuntimeError):  # the pool has shut down
                self._pool.submit(self._synthesize, job)

    def _synthesize(self, job: Job) -> None:
        sub = job.submission
        try:
            synthesis = self._synthesizer.synthesize(sub)
            path, status = self._store(sub.key, synthesis.audio)
            if self._written is not None:
                self._written(path, synthesis.audio, status)
        except ItemError as exc:
            # Malformed SSML is the caller's mistake; any other refusal reads as TTS failing.
            code = "InvalidParameter" if exc.code == "InvalidParameter" else INJECTED_FAILURE[0]
            outcome: tuple[State, str, str] = ("Failed", code, str(exc))
        except (VoxformError, PathEscapeError, OSError) as exc:
            outcome = ("Failed", "InternalError", f"The job failed on an internal error: {exc}")
        except Exception as exc:  # on the serial thread, which must go on
            if self._serial is None:
                raise
            outcome = ("Failed", "InternalError", f"The job failed on an internal error: {exc}")
        else:
            outcome = ("Finished", "", ai_result(synthesis.segments))
        self._timeline.at(job.due, lambda: self._update(job, *outcome))

    def _store(self, key: str, audio: bytes) -> tuple[str, os.stat_result | None]:
        """Write a job's audio as object `key` (`<bucket>/<object>.<ext>`): the file's path
        and, when known, its status. A new object in a folder there already is made in one
        call that follows no symlink (`create_beneath`), where resolving its path cost more
        than the rest of a silent job; anything else takes `store_audio`'s way."""
        fd = create_beneath(self._folder(), key)
        if fd is None:
            target = inside(self.storage, key, real_root=self.storage)
            store_audio(target, audio)
            return str(target), None
        path = f"{self._root}/{key}"  # no symlink, `.` or `..` on the way
        try:
            rest = memoryview(audio)
            while rest:
                rest = rest[os.write(fd, rest) :]
            status = os.fstat(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(path)
            raise
        finally:
            os.close(fd)
        return path, status

    def _folder(self) -> int:
        """The storage folder, open (-1 when it cannot be: `create_beneath` then says no)."""
        if self._storage_fd is None:
            with self._lock:
                if self._storage_fd is None:
                    try:
                        self._storage_fd = os.open(self.storage, _FOLDER)
                    except OSError:
                        return -1
        return self._storage_fd

    def _update(self, job: Job, state: State, code: str = "", detail: str = "") -> None:
        """Move `job` to `state`: `detail` is the error message if failed, else the AiResult."""
        with self._lock:
            self._states[job.state] -= 1
            self._states[state] += 1
            job.state, job.error_code = state, code
            if state == "Failed":
                job.error_message = detail
            else:
                job.ai_result = detail
            job.modified = self._stamp()

    def _stamp(self) -> str:
        """The service's time to the second, spelt once per second (three times per job)."""
        now = self._clock()
        second = now.replace(microsecond=0)
        if second != self._stamped[0]:
            self._stamped = second, second.strftime(DATE_FORMAT)
        return self._stamped[1]
