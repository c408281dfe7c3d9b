"""The pipeline on its own: real plans from real projects, a scripted backend behind the
Provider protocol, the real journal and lockfile on disk.

The backend is the only double: each `submit` or `check` takes the next step scripted for
its item (a job id or result to return, an error to raise, or a function to run), so a test
can say "throttled once, then fine" without timing of its own. The pipeline is built the way
apply/run.py builds it: the journal opened first, closed with the final state after the run.
"""

from __future__ import annotations

import errno
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import write_files
from voxform.apply.flight import Latency
from voxform.apply.outcome import Outcome
from voxform.apply.pipeline import Pipeline
from voxform.apply.retry import RetryPolicy
from voxform.apply.subtitles import to_srt, to_vtt
from voxform.errors import FatalError, ItemError, RetryableError, ThrottledError, UnknownOutcome
from voxform.ice.wire import AudioRequest, Segment
from voxform.manifest.model import Target
from voxform.plan.plan import Change, Plan
from voxform.project import LoadedProject, load_project
from voxform.providers.protocol import JobPage, JobResult, ListedJob, Operation, Resources
from voxform.state.journal import Journal, journal_path
from voxform.state.lockfile import LockEntry, LockState, read_lockfile, write_lockfile

TARGET = "oss"
TIMEOUT = 10.0  # no test waits this long unless the pipeline is broken
HAND_OFF = 0.005  # a call the test backend answers at once, and its way back to the scheduler
FAST = RetryPolicy(base=0.0, cap=1.0)  # base 0: the delay is the retry-after alone
SUBMIT_ACTION = "SubmitAudioProduceJob"

SubmitStep = str | BaseException | Callable[[AudioRequest, str], str]
CheckStep = JobResult | None | BaseException | Callable[[str, AudioRequest], JobResult | None]


def segments_of(request: AudioRequest) -> tuple[Segment, ...]:
    return (Segment(f"Said {request.item_id}.", 0.0, 1.25),)


@dataclass(frozen=True)
class Call:
    """One call the backend received: the item, the token (submit) or job id (check)."""

    item: str
    ref: str
    at: float  # time.monotonic()


class ScriptedBackend:
    """A Provider whose every call does what the test scripted for that item. Unscripted
    submissions create job `job-<id>` at the "service" (listed with their token); unscripted
    checks find it finished (1.25 s, one segment), or still running after `keep_running`."""

    kind: ClassVar[str] = "scripted"
    durable_jobs: ClassVar[bool] = False
    files_in_project: ClassVar[bool] = False
    operations: ClassVar[Mapping[Operation, str]] = {}

    def __init__(
        self,
        submits: dict[str, list[SubmitStep]] | None = None,
        checks: dict[str, list[CheckStep]] | None = None,
        *,
        page_size: int = 100,
    ) -> None:
        self.submits = {k: list(v) for k, v in (submits or {}).items()}
        self.checks = {k: list(v) for k, v in (checks or {}).items()}
        self.page_size = page_size
        self.running_until = 0.0  # time.monotonic() before which unscripted jobs run
        self.list_error: BaseException | None = None  # raised by list_jobs until
        self.list_fails_until = 0.0  # this time.monotonic()
        self.jobs: list[ListedJob] = []  # at the service, oldest first
        self.submitted: list[Call] = []
        self.checked: list[Call] = []
        self.pages: list[str | None] = []
        self.events: list[str] = []  # "submit a", "check a", "list", in the order received
        self.closed = False
        self._guard = threading.Lock()

    @classmethod
    def for_target(cls, target: Target, resources: Resources) -> ScriptedBackend:
        raise NotImplementedError("the pipeline is handed its providers")

    @classmethod
    def engine_version(cls) -> str | None:
        return None

    @classmethod
    def subtitle_dir(cls, target: Target) -> str:
        return "subtitles"

    def create(self, request: AudioRequest, token: str, created: float | None = None) -> str:
        """The job a submission makes at the service, as the job list will show it."""
        job_id = f"job-{request.item_id}"
        with self._guard:
            self.jobs.append(ListedJob(job_id, token, time.time() if created is None else created))
        return job_id

    def keep_running(self) -> None:
        """Unscripted jobs run for TIMEOUT seconds: a test that waits for them fails."""
        self.running_until = time.monotonic() + TIMEOUT

    def submitted_items(self) -> list[str]:
        return [call.item for call in self.submitted]

    def submit(self, request: AudioRequest, token: str) -> str:
        with self._guard:
            self.submitted.append(Call(request.item_id, token, time.monotonic()))
            self.events.append(f"submit {request.item_id}")
            script = self.submits.get(request.item_id)
            step: SubmitStep | None = script.pop(0) if script else None
        if step is None:
            return self.create(request, token)
        if isinstance(step, BaseException):
            raise step
        return step if isinstance(step, str) else step(request, token)

    def check(self, job_id: str, request: AudioRequest) -> JobResult | None:
        with self._guard:
            self.checked.append(Call(request.item_id, job_id, time.monotonic()))
            self.events.append(f"check {request.item_id}")
            script = self.checks.get(request.item_id)
            scripted = bool(script)
            step: CheckStep = script.pop(0) if script else None
        if not scripted:
            if time.monotonic() < self.running_until:
                return None
            return JobResult(
                state="finished",
                job_id=job_id,
                url=f"oss://audio/{request.object_key}.mp3",
                duration=1.25,
                segments=segments_of(request),
            )
        if isinstance(step, BaseException):
            raise step
        return step(job_id, request) if callable(step) else step

    def list_jobs(self, page: str | None) -> JobPage:
        with self._guard:
            self.pages.append(page)
            self.events.append("list")
            if self.list_error is not None and time.monotonic() < self.list_fails_until:
                raise self.list_error
            newest_first = self.jobs[::-1]
        start = int(page or 0)
        end = start + self.page_size
        return JobPage(
            tuple(newest_first[start:end]), str(end) if end < len(newest_first) else None
        )

    def close(self) -> None:
        self.closed = True


class DurableBackend(ScriptedBackend):
    """Jobs that outlive the process, as a cloud service's do."""

    durable_jobs: ClassVar[bool] = True


class RatedBackend(ScriptedBackend):
    """Submissions counted against the SubmitAudioProduceJob limit."""

    operations: ClassVar[Mapping[Operation, str]] = {"submit": SUBMIT_ACTION}


def lost_answer(backend: ScriptedBackend, *, created: bool) -> SubmitStep:
    """A submission whose answer is lost on the way back, with or without its job made."""

    def submit(request: AudioRequest, token: str) -> str:
        if created:
            backend.create(request, token)
        raise UnknownOutcome("the connection closed before the answer arrived")

    return submit


class Heard:
    """The Progress the pipeline reports to, remembering what it was told."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []
        self.retries: list[tuple[str, str, float]] = []
        self.retried = threading.Event()

    def item_done(self, change: Change, entry: LockEntry) -> None:
        self.done.append((change.id, entry.state))

    def retrying(self, change: Change, error: RetryableError, delay: float) -> None:
        self.retries.append((change.id, error.code, delay))
        self.retried.set()

    def running(self, in_flight: int, outcome: Outcome) -> None:
        pass


class Apply:
    """A pipeline as apply/run.py builds it, over a real journal and lockfile."""

    def __init__(
        self,
        loaded: LoadedProject,
        backend: ScriptedBackend,
        progress: Heard | None = None,
        *,
        parallelism: int = 1,
        retry: RetryPolicy = FAST,
        retry_deadline: float = 60.0,
        subtitle_dir: str = "subtitles",
        limits: Mapping[str, float | None] | None = None,
        first_look: float = 0.01,
        journal: Journal | None = None,
    ) -> None:
        self.loaded = loaded
        root = loaded.project.root
        self.journal = journal or Journal(loaded.lock_path, journal_path(root, loaded.lock_path))
        self.journal.open()
        self.pipeline = Pipeline(
            self.journal,
            loaded.lock,
            {TARGET: backend},
            progress or Heard(),
            limits={TARGET: dict(limits or {})},
            parallelism=parallelism,
            root=root,
            subtitle_dirs={TARGET: subtitle_dir},
            intent_times=loaded.intent_times,
            retry=retry,
            retry_deadline=retry_deadline,
            seed=1,
        )
        # A job's first look comes after the learnt latency (1 s to start with): keep it short.
        self.pipeline.latency[TARGET] = Latency(estimate=first_look)

    def run(self, plan: Plan, *, watchdog: float = TIMEOUT) -> Outcome:
        """Run `plan`; a run still going after `watchdog` seconds is stopped (and is seen as
        interrupted), so a pipeline that hangs fails its test instead of hanging it."""
        timer = threading.Timer(watchdog, self.pipeline.stop)
        timer.daemon = True
        timer.start()
        saved = False
        try:
            outcome = self.pipeline.run(plan)
            self.journal.close(self.loaded.lock)
            saved = True
        finally:
            timer.cancel()
            if not saved:
                self.journal.close(None)
        return outcome


PROJECT = """
    version: 1
    targets: {oss: {provider: ice, bucket: audio}}
    voices: {n: {voice: siqi}}
    items:
"""


def make_project(root: Path, texts: Mapping[str, str]) -> LoadedProject:
    items = "".join(f"      - {{id: {key}, text: {text}}}\n" for key, text in texts.items())
    write_files(root, {"voxform.yaml": PROJECT + items})
    return load_project(root)


THREE = {"a": "Hello there.", "b": "Good bye.", "c": "See you."}


@pytest.fixture
def loaded(tmp_path: Path) -> LoadedProject:
    """A three-item project with no lockfile yet."""
    return make_project(tmp_path / "project", THREE)


@pytest.fixture
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Look lost submissions up at once instead of 5 s after their intent."""
    monkeypatch.setattr("voxform.apply.lookup.GRACE", 0.0)


def on_disk(loaded: LoadedProject) -> dict[str, LockEntry]:
    return read_lockfile(loaded.lock_path).items


def actions(root: Path) -> dict[str, str]:
    """What the next plan would do with each item, from the files on disk."""
    return {c.id: c.action for c in load_project(root).plan().changes}


def journaled(loaded: LoadedProject, key: str) -> list[dict[str, object] | None]:
    """The entries the journal on disk holds for `key`, in order."""
    path = loaded.journal_path
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_bytes().splitlines(keepends=True)]
    return [r["entry"] for r in records if r["id"] == key]


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


# -- transient errors ---------------------------------------------------------------------


@pytest.mark.parametrize("call", ["submit", "check"])
def test_a_throttled_call_is_retried_after_its_retry_after_then_finishes(
    loaded: LoadedProject, call: str
) -> None:
    throttled = ThrottledError("slow down", code="Throttling.User", retry_after=0.05)
    if call == "submit":
        backend = DurableBackend(submits={"a": [throttled]})
    else:
        backend = DurableBackend(checks={"a": [throttled]})
    heard = Heard()

    outcome = Apply(loaded, backend, heard).run(loaded.plan(select=["a"]))

    assert outcome.finished == ["a"] and outcome.failed == [] and outcome.fatal is None
    assert heard.retries == [("a", "Throttling.User", 0.05)]  # base 0: the delay is retry_after
    assert heard.done == [("a", "finished")]
    if call == "submit":
        first, second = backend.submitted  # the refused one and the one that went through
        assert second.at - first.at >= 0.05  # it did wait before trying again
        assert second.ref == first.ref  # the same token
    else:
        assert backend.submitted_items() == ["a"]  # a slow look does not submit twice
        first, second = backend.checked
        assert (first.ref, second.ref) == ("job-a", "job-a")
        assert second.at - first.at >= 0.05
    entry = on_disk(loaded)["a"]
    assert (entry.state, entry.job_id, entry.duration, entry.token) == (
        "finished",
        "job-a",
        1.25,
        None,
    )


def test_a_step_that_keeps_failing_transiently_fails_its_item_after_the_deadline(
    loaded: LoadedProject,
) -> None:
    busy = RetryableError("service unavailable", code="ServiceUnavailable")
    backend = DurableBackend(submits={"a": [busy] * 1000})

    outcome = Apply(
        loaded,
        backend,
        parallelism=3,
        retry=RetryPolicy(base=0.01, cap=0.05),
        retry_deadline=0.2,
    ).run(loaded.plan())

    tries = [call for call in backend.submitted if call.item == "a"]
    [(key, code, message)] = outcome.failed
    assert (key, code) == ("a", "ServiceUnavailable")
    assert message == (
        f"gave up after 0.2 s of transient errors ({len(tries)} attempts): service unavailable"
    )
    # Not a moment before the deadline. The pipeline counts it on its own clock, from when it
    # handled the first failure to when it handles the last; `at` is when the backend began
    # each call, so the two spans differ by the last call's own time and its hand-off back.
    assert tries[-1].at - tries[0].at >= 0.2 - HAND_OFF
    assert len(tries) < 1000  # nor after the script ran out
    assert sorted(outcome.finished) == ["b", "c"]
    states = {k: (e.state, e.error_code, e.job_id, e.token) for k, e in on_disk(loaded).items()}
    assert states == {
        "a": ("failed", "ServiceUnavailable", None, None),
        "b": ("finished", None, "job-b", None),
        "c": ("finished", None, "job-c", None),
    }
    assert actions(loaded.project.root) == {"a": "retry", "b": "unchanged", "c": "unchanged"}


# -- errors that end an item or the run ---------------------------------------------------


def test_an_item_error_fails_only_that_item_and_both_states_reach_the_lockfile(
    loaded: LoadedProject,
) -> None:
    refused = ItemError("voice siqi cannot read this", code="InvalidParameter.Voice")
    backend = DurableBackend(checks={"b": [refused]})
    heard = Heard()

    outcome = Apply(loaded, backend, heard, parallelism=3).run(loaded.plan())

    assert outcome.failed == [("b", "InvalidParameter.Voice", "voice siqi cannot read this")]
    assert sorted(outcome.finished) == ["a", "c"]
    assert outcome.fatal is None and not outcome.interrupted
    assert outcome.characters == len("Hello there.") + len("See you.")
    assert outcome.audio_seconds == pytest.approx(2.5)
    lock = on_disk(loaded)
    assert (lock["b"].state, lock["b"].job_id) == ("failed", "job-b")
    assert (lock["b"].error_code, lock["b"].error_message) == (
        "InvalidParameter.Voice",
        "voice siqi cannot read this",
    )
    assert lock["a"].state == lock["c"].state == "finished"
    assert lock["a"].url == "oss://audio/a.mp3"
    assert sorted(heard.done) == [("a", "finished"), ("b", "failed"), ("c", "finished")]
    assert not loaded.journal_path.exists()  # folded into the lockfile at the end


def test_a_submission_refused_for_the_item_fails_it_without_a_leftover_intent(
    loaded: LoadedProject,
) -> None:
    refused = ItemError("text too long", code="InvalidParameter.Input")
    backend = DurableBackend(submits={"a": [refused]})

    outcome = Apply(loaded, backend).run(loaded.plan(select=["a"]))

    assert outcome.failed == [("a", "InvalidParameter.Input", "text too long")]
    entry = on_disk(loaded)["a"]
    assert (entry.state, entry.job_id, entry.token) == ("failed", None, None)
    assert backend.checked == []


def test_a_job_the_service_failed_is_recorded_with_its_error(loaded: LoadedProject) -> None:
    failed = JobResult(
        state="failed", job_id="job-a", error_code="TtsFailed", error_message="engine error"
    )
    backend = DurableBackend(checks={"a": [None, failed]})  # running at the first look

    outcome = Apply(loaded, backend).run(loaded.plan(select=["a"]))

    assert outcome.failed == [("a", "TtsFailed", "engine error")]
    assert len(backend.checked) == 2
    entry = on_disk(loaded)["a"]
    assert (entry.state, entry.job_id, entry.error_code) == ("failed", "job-a", "TtsFailed")
    assert actions(loaded.project.root)["a"] == "retry"


def test_a_fatal_error_stops_the_run_and_leaves_the_lockfile_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "project"
    first = make_project(root, THREE)
    Apply(first, DurableBackend(), parallelism=3).run(first.plan())
    before = first.lock_path.read_bytes()
    loaded = make_project(root, {key: f"{text} Again." for key, text in THREE.items()})
    assert actions(root) == {"a": "update", "b": "update", "c": "update"}
    denied = FatalError("the access key does not exist", code="InvalidAccessKeyId.NotFound")
    backend = DurableBackend(submits={"a": [denied]})
    heard = Heard()

    outcome = Apply(loaded, backend, heard).run(loaded.plan())

    assert outcome.fatal is denied
    assert backend.submitted_items() == ["a"]  # b and c never reached the service
    assert outcome.finished == [] and outcome.failed == [] and not outcome.interrupted
    assert heard.done == []
    assert first.lock_path.read_bytes() == before  # a's intent withdrawn, b and c untouched
    assert not loaded.journal_path.exists()
    assert actions(root) == {"a": "update", "b": "update", "c": "update"}


def test_a_fatal_error_while_looking_keeps_the_submitted_job_for_a_resume(
    loaded: LoadedProject,
) -> None:
    expired = FatalError("the security token expired", code="InvalidSecurityToken.Expired")
    backend = DurableBackend(checks={"a": [expired]})

    outcome = Apply(loaded, backend).run(loaded.plan())

    assert outcome.fatal is expired
    assert backend.submitted_items() == ["a"]
    entry = on_disk(loaded)["a"]
    assert (entry.state, entry.job_id, entry.token) == ("pending", "job-a", None)
    assert set(on_disk(loaded)) == {"a"}
    assert actions(loaded.project.root) == {"a": "resume", "b": "create", "c": "create"}


# -- what is on disk when -----------------------------------------------------------------


class Witnessed(Journal):
    """The real journal, adding to the backend's log of events each record made durable."""

    def __init__(self, loaded: LoadedProject, events: list[str]) -> None:
        super().__init__(loaded.lock_path, journal_path(loaded.project.root, loaded.lock_path))
        self.events = events
        self.queued: list[str] = []

    def record(self, key: str, entry: LockEntry | None) -> None:
        super().record(key, entry)
        what = "withdrawn" if entry is None else entry.state
        if entry is not None and entry.state == "pending":
            what = "job" if entry.job_id else "intent"
        self.queued.append(f"journal {key} {what}")

    def flush(self) -> None:
        super().flush()
        self.events.extend(self.queued)
        self.queued.clear()


class FullDisk(Journal):
    """The real journal on a disk that is full for its first sync (then freed)."""

    def __init__(self, loaded: LoadedProject) -> None:
        super().__init__(loaded.lock_path, journal_path(loaded.project.root, loaded.lock_path))
        self.full = True

    def flush(self) -> None:
        if self.dirty and self.full:
            self.full = False
            raise OSError(errno.ENOSPC, "No space left on device")
        super().flush()


def test_intents_whose_sync_fails_are_never_sent_and_the_run_stops(
    loaded: LoadedProject,
) -> None:
    """The journal is synced on a thread of its own; a sync that fails there stops the run
    as one on the scheduler's thread did: the submissions it held never leave."""
    backend = DurableBackend()
    journal = FullDisk(loaded)
    apply = Apply(loaded, backend, parallelism=3, journal=journal)

    outcome = apply.run(loaded.plan())

    assert isinstance(outcome.fatal, FatalError)
    assert "cannot write the apply journal" in str(outcome.fatal)
    assert "No space left on device" in str(outcome.fatal)
    assert backend.submitted == []
    assert on_disk(loaded) == {}


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "in-process"])
def test_the_intent_is_on_disk_before_the_submission_and_the_job_id_before_the_first_look(
    loaded: LoadedProject, durable: bool
) -> None:
    seen_at_submit: list[list[dict[str, object] | None]] = []
    seen_at_check: list[list[dict[str, object] | None]] = []
    backend = DurableBackend() if durable else ScriptedBackend()

    def look_at_the_journal_then_submit(request: AudioRequest, token: str) -> str:
        seen_at_submit.append(journaled(loaded, "a"))
        return backend.create(request, token)

    def look_at_the_journal_then_finish(job_id: str, request: AudioRequest) -> JobResult:
        seen_at_check.append(journaled(loaded, "a"))
        return JobResult(state="finished", job_id=job_id, url="oss://audio/a.mp3", duration=1.0)

    backend.submits = {"a": [look_at_the_journal_then_submit]}
    backend.checks = {"a": [look_at_the_journal_then_finish]}

    journal = Witnessed(loaded, backend.events)
    # A job id may wait for the group commit (commit.FLUSH_EVERY, 0.1 s) to share an fsync;
    # with the first look 0.2 s after the submission it is on disk by then.
    apply = Apply(loaded, backend, first_look=0.2, journal=journal)
    outcome = apply.run(loaded.plan(select=["a"]))

    assert outcome.finished == ["a"]
    if durable:
        assert backend.events == [
            "journal a intent",
            "submit a",
            "journal a job",
            "check a",
            "journal a finished",
        ]
    else:
        assert backend.events == ["submit a", "check a", "journal a finished"]
    [at_submit] = seen_at_submit
    [at_check] = seen_at_check
    [token] = [call.ref for call in backend.submitted]
    if durable:
        change = loaded.plan().changes[0]
        assert at_submit == [
            {
                "state": "pending",
                "token": token,
                "fingerprint": change.fingerprint,
                "characters": change.characters,
                "inputs": dict(change.inputs or {}),
            }
        ]
        assert at_check[-1] is not None
        assert (at_check[-1]["state"], at_check[-1]["job_id"]) == ("pending", "job-a")
        assert "token" not in at_check[-1]
    else:  # an in-process job cannot be resumed: there is nothing to record before its result
        assert at_submit == at_check == []
    entry = on_disk(loaded)["a"]
    assert (entry.state, entry.job_id, entry.token) == ("finished", "job-a", None)


# -- submissions whose answers were lost --------------------------------------------------


@pytest.mark.usefixtures("no_grace")
def test_a_lost_answer_whose_job_was_created_is_found_and_followed_not_resubmitted(
    loaded: LoadedProject,
) -> None:
    backend = DurableBackend()
    backend.submits = {"a": [lost_answer(backend, created=True)]}
    heard = Heard()

    outcome = Apply(loaded, backend, heard).run(loaded.plan(select=["a"]))

    assert outcome.finished == ["a"] and outcome.failed == []
    assert backend.submitted_items() == ["a"]  # exactly once
    assert backend.events[:3] == ["submit a", "list", "check a"]
    assert [(c.item, c.ref) for c in backend.checked] == [("a", "job-a")]
    assert [code for _, code, _ in heard.retries] == [""]  # told once, while it was sought
    entry = on_disk(loaded)["a"]
    assert (entry.state, entry.job_id, entry.token) == ("finished", "job-a", None)


@pytest.mark.usefixtures("no_grace")
def test_a_lost_answer_whose_job_was_not_created_is_sent_again_with_the_same_token(
    loaded: LoadedProject,
) -> None:
    backend = DurableBackend()
    backend.submits = {"a": [lost_answer(backend, created=False)]}

    outcome = Apply(loaded, backend).run(loaded.plan(select=["a"]))

    assert outcome.finished == ["a"]
    first, second = backend.submitted  # exactly twice
    assert first.item == second.item == "a"
    assert first.ref == second.ref  # the same token: one job whatever happened to the first
    assert backend.events[:3] == ["submit a", "list", "submit a"]
    assert [job.token for job in backend.jobs] == [first.ref]
    entry = on_disk(loaded)["a"]
    assert (entry.state, entry.job_id) == ("finished", "job-a")


@pytest.mark.usefixtures("no_grace")
def test_a_lost_job_is_found_on_a_later_page_of_the_job_list(loaded: LoadedProject) -> None:
    backend = DurableBackend(page_size=2)

    def created_then_lost_behind_newer_jobs(request: AudioRequest, token: str) -> str:
        backend.create(request, token)
        for n in range(5):  # someone else's, newer
            backend.jobs.append(ListedJob(f"other-{n}", f"theirs-{n}", time.time()))
        raise UnknownOutcome("read timeout")

    backend.submits = {"a": [created_then_lost_behind_newer_jobs]}

    outcome = Apply(loaded, backend).run(loaded.plan(select=["a"]))

    assert outcome.finished == ["a"]
    assert backend.submitted_items() == ["a"]
    assert backend.pages == [None, "2", "4"]
    assert on_disk(loaded)["a"].job_id == "job-a"


@pytest.mark.usefixtures("no_grace")
def test_a_lookup_stops_paging_once_the_list_reaches_back_past_the_intent(
    loaded: LoadedProject,
) -> None:
    backend = DurableBackend(page_size=2)
    hour_ago = time.time() - 3600
    backend.jobs = [ListedJob(f"old-{n}", f"old-{n}", hour_ago) for n in range(6)]
    backend.submits = {"a": [lost_answer(backend, created=False)]}

    outcome = Apply(loaded, backend).run(loaded.plan(select=["a"]))

    assert outcome.finished == ["a"]
    assert backend.pages == [None]  # the first page is already older than the submission
    assert len(backend.submitted) == 2


# -- resuming what an earlier run left ----------------------------------------------------


def test_a_pending_item_is_resumed_by_looking_at_its_job_never_by_submitting(
    loaded: LoadedProject,
) -> None:
    first = loaded.plan().changes[0]
    assert first.fingerprint is not None
    pending = LockEntry(
        "pending", first.fingerprint, first.characters, dict(first.inputs or {}), job_id="job-42"
    )
    write_lockfile(loaded.lock_path, LockState({"a": pending}))
    resumed = load_project(loaded.project.root)
    plan = resumed.plan()
    assert plan.changes[0].action == "resume"
    # the service's answer need not repeat the job id; the lockfile keeps it
    backend = DurableBackend(
        checks={"a": [None, JobResult(state="finished", url="oss://audio/a.mp3")]}
    )

    outcome = Apply(resumed, backend, parallelism=3).run(plan)

    assert sorted(outcome.finished) == ["a", "b", "c"]
    assert "a" not in backend.submitted_items()
    assert [c.ref for c in backend.checked if c.item == "a"] == ["job-42", "job-42"]
    assert "list" not in backend.events
    entry = on_disk(resumed)["a"]
    assert (entry.state, entry.job_id) == ("finished", "job-42")


def crashed_with_an_intent(loaded: LoadedProject, token: str) -> LoadedProject:
    """The files a run leaves when it dies after journaling a's intent."""
    change = loaded.plan().changes[0]
    assert change.id == "a" and change.fingerprint is not None
    journal = Journal(loaded.lock_path, journal_path(loaded.project.root, loaded.lock_path))
    journal.open()
    intent = LockEntry(
        "pending", change.fingerprint, change.characters, dict(change.inputs or {}), token=token
    )
    journal.record("a", intent)
    journal.flush()
    journal.close(None)  # the journal stays, as after a crash
    assert not loaded.lock_path.exists()
    return load_project(loaded.project.root)


@pytest.mark.usefixtures("no_grace")
@pytest.mark.parametrize("arrived", [True, False], ids=["arrived", "never-arrived"])
def test_an_intent_left_by_a_crash_is_looked_up_before_anything_is_sent(
    loaded: LoadedProject, arrived: bool
) -> None:
    token = "0123456789abcdef0123"
    resumed = crashed_with_an_intent(loaded, token)
    assert resumed.lock.items["a"].unresolved
    plan = resumed.plan(select=["a"])
    assert [c.action for c in plan.changes] == ["resume"]
    backend = DurableBackend()
    if arrived:
        backend.jobs = [ListedJob("job-77", token, time.time())]

    outcome = Apply(resumed, backend).run(plan)

    assert outcome.finished == ["a"]
    assert backend.events[0] == "list"
    if arrived:
        assert backend.submitted == []
        assert [c.ref for c in backend.checked] == ["job-77"]
    else:
        assert [(c.item, c.ref) for c in backend.submitted] == [("a", token)]
    entry = on_disk(resumed)["a"]
    assert (entry.state, entry.job_id) == ("finished", "job-77" if arrived else "job-a")
    assert not resumed.journal_path.exists()


# -- stopping -----------------------------------------------------------------------------


def assert_left_for_a_resume(loaded: LoadedProject, running: list[str]) -> None:
    lock = on_disk(loaded)
    assert {k: (e.state, e.job_id, e.token) for k, e in lock.items()} == {
        key: ("pending", f"job-{key}", None) for key in running
    }
    expected = {key: "resume" if key in running else "create" for key in THREE}
    assert actions(loaded.project.root) == expected


def test_stop_from_inside_a_call_leaves_running_jobs_pending_and_submits_nothing_more(
    loaded: LoadedProject,
) -> None:
    backend = DurableBackend()
    backend.keep_running()
    apply = Apply(loaded, backend, parallelism=2)

    def stop_at_the_first_look(job_id: str, request: AudioRequest) -> None:
        apply.pipeline.stop()
        return None  # still running

    backend.checks = {"a": [stop_at_the_first_look]}

    started = time.monotonic()
    outcome = apply.run(loaded.plan())

    assert time.monotonic() - started < 5.0
    assert outcome.interrupted and outcome.fatal is None
    assert outcome.finished == [] and outcome.failed == []
    assert sorted(backend.submitted_items()) == ["a", "b"]  # c waited for a place: none came
    assert_left_for_a_resume(loaded, ["a", "b"])
    assert not loaded.journal_path.exists()


def test_stop_from_another_thread_while_jobs_run_returns_promptly(
    loaded: LoadedProject,
) -> None:
    backend = DurableBackend()
    backend.keep_running()
    apply = Apply(loaded, backend, parallelism=3)

    def stop_once_every_job_was_looked_at() -> None:
        wait_for(lambda: {c.item for c in backend.checked} == {"a", "b", "c"}, "three looks")
        apply.pipeline.stop()

    stopper = threading.Thread(target=stop_once_every_job_was_looked_at, daemon=True)
    stopper.start()
    started = time.monotonic()
    outcome = apply.run(loaded.plan())
    elapsed = time.monotonic() - started
    stopper.join(TIMEOUT)

    assert elapsed < 5.0  # not the whole STOP_WAIT: no call was under way
    assert outcome.interrupted and outcome.fatal is None
    assert sorted(backend.submitted_items()) == ["a", "b", "c"]
    assert_left_for_a_resume(loaded, ["a", "b", "c"])


def test_no_item_is_submitted_again_once_the_run_stops_during_a_backoff_wait(
    loaded: LoadedProject,
) -> None:
    heard = Heard()

    def fail_fatally_once_a_is_backing_off(request: AudioRequest, token: str) -> str:
        if not heard.retried.wait(TIMEOUT):
            raise AssertionError("a was never retried")
        raise FatalError("signature does not match", code="SignatureDoesNotMatch")

    backend = DurableBackend(
        submits={
            "a": [ThrottledError("busy", code="Throttling", retry_after=5.0)],
            "b": [fail_fatally_once_a_is_backing_off],
        }
    )
    apply = Apply(loaded, backend, heard, parallelism=2)

    started = time.monotonic()
    outcome = apply.run(loaded.plan(select=["a", "b"]))

    assert outcome.fatal is not None and outcome.fatal.code == "SignatureDoesNotMatch"
    assert time.monotonic() - started < 4.0  # the stop cut the 5 s backoff short
    assert backend.submitted_items().count("a") == 1
    assert on_disk(loaded) == {}  # both submissions were refused: both intents withdrawn


class StopAtTheFirstReport(Heard):
    """A Progress that stops the pipeline from the scheduler's own thread, as a SIGINT
    handler does (apply/run.py): between two of its steps, at any moment."""

    def __init__(self) -> None:
        super().__init__()
        self.pipeline: Pipeline | None = None

    def running(self, in_flight: int, outcome: Outcome) -> None:
        if self.pipeline is not None:
            self.pipeline.stop()
            self.pipeline = None


def test_a_stop_while_intents_wait_for_their_fsync_sends_none_of_them(
    loaded: LoadedProject,
) -> None:
    backend = DurableBackend()
    heard = StopAtTheFirstReport()
    apply = Apply(loaded, backend, heard, parallelism=3)
    heard.pipeline = apply.pipeline

    outcome = apply.run(loaded.plan())

    assert outcome.interrupted
    assert on_disk(loaded) == {}  # every intent withdrawn: nothing was sent
    assert backend.submitted == []


# -- subtitles ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend_class", [ScriptedBackend, DurableBackend])
def test_timings_become_subtitle_files_named_in_the_lockfile(
    loaded: LoadedProject, backend_class: type[ScriptedBackend]
) -> None:
    outcome = Apply(loaded, backend_class(), subtitle_dir="out/subs/").run(
        loaded.plan(select=["a"])
    )

    assert outcome.finished == ["a"]
    root = loaded.project.root
    entry = on_disk(loaded)["a"]
    assert entry.subtitles == {"vtt": "out/subs/a.vtt", "srt": "out/subs/a.srt"}
    [segment] = segments_of(loaded.rendered[0].request)
    assert (root / "out/subs/a.vtt").read_text("utf-8") == to_vtt([segment])
    assert (root / "out/subs/a.srt").read_text("utf-8") == to_srt([segment])


@pytest.mark.parametrize("backend_class", [ScriptedBackend, DurableBackend])
def test_subtitles_that_would_leave_the_project_fail_the_item_not_the_run(
    loaded: LoadedProject, tmp_path: Path, backend_class: type[ScriptedBackend]
) -> None:
    outcome = Apply(loaded, backend_class(), parallelism=2, subtitle_dir="../escape").run(
        loaded.plan(select=["a", "b"])
    )

    assert outcome.fatal is None and not outcome.interrupted
    assert sorted((i, code) for i, code, _ in outcome.failed) == [
        ("a", "InvalidOutput"),
        ("b", "InvalidOutput"),
    ]
    assert "'../escape' has a '..' part" in outcome.failed[0][2]
    assert not (tmp_path / "escape").exists()
    assert {e.state for e in on_disk(loaded).values()} == {"failed"}


# -- rate limits --------------------------------------------------------------------------


def test_submissions_keep_to_the_configured_rate_limit(tmp_path: Path) -> None:
    loaded = make_project(tmp_path / "project", {f"i{n}": f"Line {n}." for n in range(20)})
    backend = RatedBackend()

    outcome = Apply(loaded, backend, parallelism=20, limits={SUBMIT_ACTION: 20}).run(loaded.plan())

    assert len(outcome.finished) == 20
    times = sorted(call.at for call in backend.submitted)
    assert len(times) == 20
    # twenty at 20/s: nineteen gaps of 50 ms, 0.95 s; a busy machine may hand the first call
    # to the backend late, so the span seen there is allowed 0.2 s less (ten at once: 0)
    assert times[-1] - times[0] >= 0.75
    assert times[-1] - times[0] < TIMEOUT  # and not stuck


# -- lookups that cannot be made ----------------------------------------------------------


@pytest.mark.usefixtures("no_grace")
def test_a_job_list_that_keeps_failing_does_not_keep_the_run_going(
    loaded: LoadedProject,
) -> None:
    backend = DurableBackend()
    backend.submits = {"a": [lost_answer(backend, created=False)]}
    backend.list_error = RetryableError("service unavailable", code="ServiceUnavailable")
    backend.list_fails_until = time.monotonic() + 3.0  # then the run can end even unstopped
    apply = Apply(loaded, backend, retry=RetryPolicy(base=0.01, cap=0.05), retry_deadline=0.2)

    outcome = apply.run(loaded.plan(select=["a"]), watchdog=1.5)

    assert not outcome.interrupted  # it ended by itself, not by the watchdog
    assert len(backend.pages) < 50  # and it backed off between tries
    assert outcome.finished == []
    assert backend.submitted_items() == ["a"]  # never resent while its fate is unknown
