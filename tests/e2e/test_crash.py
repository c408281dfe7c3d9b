"""Exactly once across crashes, signals and lost answers, with `voxform apply` as a process.

The emulator counts accepted submissions per object: after any of these journeys, every
object must have been submitted exactly once and every item must end finished.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conftest import Runner, write_files
from voxform.state.lockfile import LockEntry

Emulator = Callable[..., tuple[str, Path]]  # the `emulator` fixture: (url, storage)
ITEMS = 40
DEADLINE = 60.0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ITEMS paragraphs for one ICE target limited to 20 submissions per second."""
    paragraphs = "\n\n".join(f"Paragraph number {n} is spoken here." for n in range(ITEMS))
    root = write_files(
        tmp_path / "project",
        {
            "voxform.yaml": """
                version: 1
                targets:
                  oss:
                    provider: ice
                    bucket: crash-audio
                    prefix: c/
                    rate_limits: {SubmitAudioProduceJob: 20, GetSmartHandleJob: 40}
                voices:
                  narrator: {voice: siqi}
                defaults: {voice: narrator, target: oss}
                sources:
                  - {id: book, glob: texts/*.md, split: paragraph}
                """,
            "texts/book.md": paragraphs + "\n",
        },
    )
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    return root


def start_apply(root: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "VOXFORM_ICE_ENDPOINT": url}
    return subprocess.Popen(
        [sys.executable, "-m", "voxform", "-C", str(root), *args, "apply", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def journal_lines(root: Path) -> int:
    path = root / ".voxform" / "voxform.lock.journal"
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_for_journal(root: Path, lines: int, process: subprocess.Popen[str]) -> None:
    """Poll (with a deadline) until the running apply has journaled `lines` changes."""
    deadline = time.monotonic() + DEADLINE
    while journal_lines(root) < lines:
        assert process.poll() is None, "apply ended before the moment to stop it"
        assert time.monotonic() < deadline, "apply journaled nothing within the deadline"
        time.sleep(0.01)


def stats(url: str) -> dict:
    return httpx.get(f"{url}/_emulator/stats", timeout=10).json()


def apply_to_the_end(voxform: Runner, root: Path, url: str) -> None:
    """One normal apply; then every object was submitted once and every item finished."""
    result = voxform(root, "apply", "--yes")
    assert result.exit_code == 0, result.output
    assert_each_object_once_and_all_finished(root, url)


def assert_each_object_once_and_all_finished(root: Path, url: str) -> None:
    submissions = stats(url)["submissions"]
    assert len(submissions) == ITEMS
    assert set(submissions.values()) == {1}, submissions
    lock = json.loads((root / "voxform.lock").read_text())["items"]
    assert {e["state"] for e in lock.values()} == {"finished"}
    assert len(lock) == ITEMS
    assert not (root / ".voxform" / "voxform.lock.journal").exists()


def test_kill_9_at_any_moment_never_pays_twice(
    emulator: Emulator, project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = emulator("--latency", "1", "--synthesis", "silence")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    for moment in (1, 7, 20):  # journal lines: an early intent, mid-run, late
        process = start_apply(project, url)
        wait_for_journal(project, moment, process)
        process.kill()
        process.wait(timeout=10)
        plan = json.loads(voxform(project, "plan", "--json").stdout)
        assert plan["summary"]["resume"] >= 1  # the journal was replayed
    apply_to_the_end(voxform, project, url)


def test_sigterm_stops_within_10_seconds_and_saves_state(
    emulator: Emulator, project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = emulator("--latency", "2", "--synthesis", "silence")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    process = start_apply(project, url)
    wait_for_journal(project, 10, process)
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)
    assert time.monotonic() - sent < 10
    assert process.returncode == 1, output
    assert "Interrupted: state saved." in output
    lock = json.loads((project / "voxform.lock").read_text())["items"]
    pending = [e for e in lock.values() if e["state"] == "pending"]
    assert pending and all(e.get("job_id") for e in pending)
    plan = json.loads(voxform(project, "plan", "--json").stdout)
    assert plan["summary"]["resume"] == len(pending)
    apply_to_the_end(voxform, project, url)


def test_lost_answers_are_found_by_token_not_paid_for_again(
    emulator: Emulator, project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = emulator(
        "--latency", "0.2", "--synthesis", "silence", "--drop-responses", "0.3", "--seed", "4"
    )
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    monkeypatch.setattr("voxform.apply.lookup.GRACE", 0.5)
    apply_to_the_end(voxform, project, url)
    assert stats(url)["calls"]["ListSmartJobs"] >= 1


def test_a_lockfile_that_cannot_be_written_stops_apply_before_any_submission(
    emulator: Emulator, project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = emulator("--synthesis", "silence")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    unwritable = Path("/proc/voxform-test.lock")  # no one may create files in /proc, not root
    result = voxform(project, "--lockfile", str(unwritable), "apply", "--yes")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "nothing was submitted" in errors[0], result.output
    assert stats(url)["submissions"] == {}


def test_a_second_signal_exits_at_once_and_the_journal_stays_whole(
    emulator: Emulator, project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = emulator("--latency", "3", "--synthesis", "silence")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    process = start_apply(project, url)
    wait_for_journal(project, 10, process)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=10)
    assert process.returncode != 0
    plan = json.loads(voxform(project, "plan", "--json").stdout)  # replays the journal
    assert plan["summary"]["resume"] >= 1
    apply_to_the_end(voxform, project, url)


def test_refresh_collects_what_a_killed_apply_submitted_and_sends_nothing(
    emulator: Emulator, project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = emulator("--latency", "1", "--synthesis", "silence")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    monkeypatch.setattr("voxform.apply.lookup.GRACE", 0.2)
    process = start_apply(project, url)
    wait_for_journal(project, 20, process)
    process.kill()
    process.wait(timeout=10)
    submitted = dict(stats(url)["submissions"])
    result = voxform(project, "refresh", "--json")
    assert result.exit_code == 0, result.output
    assert stats(url)["submissions"] == submitted  # refresh never submits
    unsent = json.loads(result.stdout)["unsent"]  # killed between an intent and its request
    status = json.loads(voxform(project, "status", "--json").stdout)
    assert sorted(p["id"] for p in status["pending"]) == sorted(unsent)
    assert status["states"]["finished"] == len(submitted)
    plan = json.loads(voxform(project, "plan", "--json").stdout)
    assert plan["summary"]["create"] == ITEMS - len(submitted) - len(unsent)
    assert plan["summary"]["resume"] == len(unsent)  # looked up by token, then sent, by apply
    apply_to_the_end(voxform, project, url)


def test_refresh_leaves_an_intent_that_never_arrived_pending_for_apply(
    emulator: Emulator, project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxform.project import load_project
    from voxform.state.journal import Journal

    url, _ = emulator("--synthesis", "silence")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    monkeypatch.setattr("voxform.apply.lookup.GRACE", 0.0)
    loaded = load_project(project)
    change = loaded.plan().changes[0]
    journal = Journal(loaded.lock_path, loaded.journal_path)
    journal.open()
    never = "0000000000abcdef0000"  # a token as apply makes them, that no job carries
    journal.record(change.id, LockEntry("pending", change.fingerprint or "", 1, token=never))
    journal.flush()  # an apply died after its intent, before its request left
    result = voxform(project, "refresh")
    assert result.exit_code == 0, result.output
    assert "1 item(s) were never submitted" in result.output
    assert stats(url)["submissions"] == {}
    assert stats(url)["calls"]["ListSmartJobs"] >= 1
    apply_to_the_end(voxform, project, url)
