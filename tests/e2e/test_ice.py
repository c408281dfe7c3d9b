"""Journeys against the ICE emulator, started as a user would: `voxform emulator`."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from conftest import Runner
from e2e.audio import mp3_duration

Emulator = Callable[..., tuple[str, Path]]  # the `emulator` fixture: (url, storage)


def stats(url: str) -> dict:
    return httpx.get(f"{url}/_emulator/stats", timeout=10).json()


def apply_json(voxform: Runner, root: Path, *args: str) -> tuple[int, dict]:
    result = voxform(root, "apply", "--yes", "--json", *args)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def test_apply_writes_one_object_per_item_and_records_jobs(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, storage = emulator("--latency", "0.1")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    code, outcome = apply_json(voxform, ice_project)
    assert code == 0, outcome
    lock = json.loads((ice_project / "voxform.lock").read_text())["items"]
    assert set(lock) == {"welcome", "tip", "notes/notes/p1", "notes/notes/p2", "notes/notes/p3"}
    for item_id, entry in lock.items():
        assert entry["state"] == "finished"
        assert entry["job_id"] and entry["media_id"] and entry["url"].startswith("http")
        audio = storage / "my-audio" / f"course/intro/{item_id}.mp3"
        rate, seconds = mp3_duration(audio.read_bytes())
        assert rate == 16000 and seconds > 0.5
        assert httpx.get(entry["url"], timeout=10).content == audio.read_bytes()
        vtt = ice_project / entry["subtitles"]["vtt"]
        assert vtt.read_text().startswith("WEBVTT")
    counts = stats(url)
    assert json.dumps(counts).count('"my-audio/course/intro/') == 5

    result = voxform(ice_project, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes" in result.output


def test_faults_end_in_finished_or_failed_and_reapply_retries_only_failures(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4, 13):
        (ice_project / f"texts/more{n:02d}.txt").write_text(f"Extra note number {n}.\n")
    url, _ = emulator(
        "--latency", "0.05", "--fail-jobs", "0.3", "--fail-requests", "0.2", "--seed", "7"
    )
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    code, outcome = apply_json(voxform, ice_project)
    lock = json.loads((ice_project / "voxform.lock").read_text())["items"]
    failed = {i for i, e in lock.items() if e["state"] == "failed"}
    assert {e["state"] for e in lock.values()} <= {"finished", "failed"}
    assert failed and code == 1
    assert {f["id"] for f in outcome["failed"]} == failed
    for item_id in failed:
        assert lock[item_id]["error_code"] and lock[item_id]["error_message"]
        assert lock[item_id]["job_id"]  # failed at the service, with its own code and message

    result = voxform(ice_project, "plan", "--json")
    planned = {c["id"]: c["action"] for c in json.loads(result.stdout)["changes"]}
    assert planned == dict.fromkeys(failed, "retry")

    before = stats(url)
    apply_json(voxform, ice_project)
    after = stats(url)
    resubmitted = {
        key
        for key, count in after["submissions"].items()
        if count != before["submissions"].get(key, 0)
    }
    assert resubmitted == {f"my-audio/course/intro/{i}" for i in failed}


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        ("wrong-secret", "SignatureDoesNotMatch"),
        ("unknown-key", "InvalidAccessKeyId.NotFound"),
        ("unreachable", "cannot reach the ICE endpoint"),
        ("clock-skew", "clock"),
    ],
)
def test_fatal_errors_end_the_run_with_one_sentence(
    setup: str,
    needle: str,
    emulator: Emulator,
    ice_project: Path,
    voxform: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    options = ["--clock-offset", "3600"] if setup == "clock-skew" else []
    url, _ = emulator(*options)
    if setup == "wrong-secret":
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret")
    if setup == "unknown-key":
        monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "nobody")
    if setup == "unreachable":
        url = "http://127.0.0.1:9"  # discard port: nothing listens there
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    (ice_project / "voxform.lock").write_text('{\n  "items": {},\n  "lockfile_version": 1\n}\n')
    before = (ice_project / "voxform.lock").read_bytes()
    started = time.monotonic()
    result = voxform(ice_project, "apply", "--yes")
    assert result.exit_code == 1
    assert time.monotonic() - started < 60
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and needle in errors[0], result.output
    assert "Traceback" not in result.output
    assert "testsecret" not in result.output and "not-the-secret" not in result.output
    assert (ice_project / "voxform.lock").read_bytes() == before
    assert os.listdir(ice_project).count("voxform.lock") == 1


def test_a_pending_job_is_resumed_not_paid_for_again(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxform.project import load_project
    from voxform.providers.credentials import load_credentials
    from voxform.providers.ice import IceProvider
    from voxform.providers.ice_client import IceClient
    from voxform.state.lockfile import LockEntry, LockState, write_lockfile

    url, storage = emulator("--latency", "0.1")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    # What a crashed apply leaves behind: the job submitted, its id durable, no result yet.
    change = next(c for c in load_project(ice_project).plan().changes if c.id == "welcome")
    assert change.rendered is not None
    with IceProvider(IceClient(url, load_credentials())) as provider:
        job_id = provider.submit(change.rendered.request, "crashed-run-token")
    entry = LockEntry("pending", change.fingerprint or "", change.characters, dict(change.inputs))
    write_lockfile(
        ice_project / "voxform.lock", LockState({"welcome": replace(entry, job_id=job_id)})
    )

    document = json.loads(voxform(ice_project, "plan", "--json").stdout)
    assert {c["id"]: c["action"] for c in document["changes"]}["welcome"] == "resume"
    code, _ = apply_json(voxform, ice_project)
    assert code == 0
    lock = json.loads((ice_project / "voxform.lock").read_text())["items"]
    assert lock["welcome"]["state"] == "finished" and lock["welcome"]["job_id"] == job_id
    assert stats(url)["submissions"]["my-audio/course/intro/welcome"] == 1
    assert (storage / "my-audio/course/intro/welcome.mp3").is_file()
