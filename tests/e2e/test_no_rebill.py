"""A finished job is never paid twice: whatever an item writes locally is checked before it
is submitted (by validate, and again just before the submission), and a local write that
fails after the job finished keeps the job, to be read again (for free) by the next apply.

Counted at the emulator (`/_emulator/stats`, accepted submissions per object). A full disk
is played by RLIMIT_FSIZE on the apply process: past the limit write() fails with EFBIG,
the same OSError path as ENOSPC, with no mount (so it runs unprivileged, in CI too). The
limit sits between the bytes voxform's own state needs and one item's subtitles, which this
project makes large on purpose: a long item of many sentences.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conftest import Runner, write_files
from voxform.apply.outcome import Outcome
from voxform.apply.run import apply_plan
from voxform.errors import RetryableError
from voxform.plan.plan import Change
from voxform.project import load_project
from voxform.state.lockfile import LockEntry

Emulator = Callable[..., tuple[str, Path]]  # the `emulator` fixture: (url, storage)
FILE_LIMIT = 5000  # bytes: more than the lockfile or the journal, less than the subtitles
LONG_TEXT = " ".join(f"Line {n}." for n in range(1, 200))  # 199 cues: about 8 KB of VTT


def submissions(url: str) -> dict[str, int]:
    counts: dict[str, int] = httpx.get(f"{url}/_emulator/stats", timeout=10).json()["submissions"]
    return counts


def lock_items(root: Path) -> dict:
    return json.loads((root / "voxform.lock").read_text("utf-8"))["items"]


def apply_limited(root: Path, limit: int | None) -> subprocess.CompletedProcess[str]:
    """`voxform apply --yes --json` as its own process, its files capped at `limit` bytes."""

    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(root), "apply", "--yes", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=cap,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def endpoint(emulator: Emulator, ice_project: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The emulator's URL, which every voxform command of the test (and its children) uses."""
    url, _ = emulator("--latency", "0.05")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    return url


@pytest.fixture
def long_project(ice_project: Path) -> Path:
    """One ICE item whose subtitles are bigger than FILE_LIMIT (the key pair is set)."""
    return write_files(
        ice_project.parent / "long",
        {
            "voxform.yaml": f"""
                version: 1
                targets:
                  oss: {{provider: ice, region: cn-shanghai, bucket: my-audio, prefix: c/}}
                voices: {{narrator: {{voice: siqi}}}}
                defaults: {{voice: narrator, format: mp3, sample_rate: 16000, target: oss}}
                items:
                  - id: long
                    text: "{LONG_TEXT}"
            """
        },
    )


def plant(root: Path, where: str, kind: str, outside: Path) -> None:
    path = root / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "symlink":
        path.symlink_to(outside, target_is_directory=True)
    else:
        path.write_text("not a folder\n")


PLANTS = [
    ("subtitles", "symlink", "subtitles is a symlink"),
    ("subtitles", "file", "subtitles is a file, not a folder"),
    ("subtitles/oss", "symlink", "subtitles/oss is a symlink"),
    ("subtitles/oss/course/intro", "file", "subtitles/oss/course/intro is a file, not a folder"),
    ("subtitles/oss/course/intro/notes", "symlink", "intro/notes is a symlink"),
]


@pytest.mark.parametrize(("where", "kind", "message"), PLANTS)
def test_a_subtitle_folder_that_cannot_hold_files_is_named_and_nothing_is_paid(
    ice_project: Path,
    endpoint: str,
    voxform: Runner,
    tmp_path: Path,
    where: str,
    kind: str,
    message: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    plant(ice_project, where, kind, outside)

    checked = voxform(ice_project, "validate")
    assert checked.exit_code == 1, checked.output
    assert message in checked.output
    for _ in range(3):
        result = voxform(ice_project, "apply", "--yes")
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    assert submissions(endpoint) == {}
    assert list(outside.iterdir()) == []


def test_a_subtitle_folder_broken_after_the_plan_fails_its_items_before_they_are_paid(
    ice_project: Path, endpoint: str, tmp_path: Path
) -> None:
    loaded = load_project(ice_project)
    plan = loaded.plan()
    outside = tmp_path / "outside"
    outside.mkdir()
    plant(ice_project, "subtitles", "symlink", outside)  # after validate and plan looked

    outcome = apply_plan(loaded, plan, Quiet())

    assert len(outcome.failed) == 5 and not outcome.finished
    assert {code for _, code, _ in outcome.failed} == {"InvalidOutput"}
    assert all("subtitles is a symlink" in message for _, _, message in outcome.failed)
    assert submissions(endpoint) == {}
    assert list(outside.iterdir()) == []


def test_a_full_disk_after_the_job_finished_reads_the_job_again_instead_of_paying_twice(
    long_project: Path, endpoint: str, voxform: Runner
) -> None:
    done = apply_limited(long_project, FILE_LIMIT)
    assert done.returncode == 1, done.stdout + done.stderr
    entry = lock_items(long_project)["long"]
    again = apply_limited(long_project, FILE_LIMIT)  # the disk is still full
    assert again.returncode == 1, again.stdout + again.stderr
    assert submissions(endpoint) == {"my-audio/c/long": 1}

    [failed] = json.loads(done.stdout)["failed"]
    assert failed["id"] == "long" and failed["code"] == "ResultNotStored"
    assert "subtitles/oss/c/long.vtt: File too large" in failed["message"]
    assert entry["state"] == "failed" and entry["error_code"] == "ResultNotStored"
    assert entry["job_id"] and entry["media_id"] and entry["url"].startswith("http")
    assert lock_items(long_project)["long"]["job_id"] == entry["job_id"]
    planned = json.loads(voxform(long_project, "plan", "--json").stdout)["changes"]
    assert [(c["id"], c["action"]) for c in planned] == [("long", "resume")]
    assert f"read again from job {entry['job_id']}" in planned[0]["reasons"][0]

    freed = apply_limited(long_project, None)
    assert freed.returncode == 0, freed.stdout + freed.stderr
    finished = lock_items(long_project)["long"]
    assert finished["state"] == "finished" and finished["job_id"] == entry["job_id"]
    vtt = long_project / finished["subtitles"]["vtt"]
    assert vtt.read_text("utf-8").startswith("WEBVTT")
    assert submissions(endpoint) == {"my-audio/c/long": 1}  # 0 extra over 3 applies
    # the premise: the subtitles are what the limit refused, voxform's own state was not
    assert vtt.stat().st_size > FILE_LIMIT > (long_project / "voxform.lock").stat().st_size
    assert "No changes" in voxform(long_project, "plan").output


def test_a_local_item_folder_that_is_a_symlink_is_named_by_validate(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    plant(quickstart, "build/audio/chapters", "symlink", outside)

    result = voxform(quickstart, "validate")

    assert result.exit_code == 1, result.output
    assert "build/audio/chapters is a symlink" in result.output
    assert os.listdir(outside) == []


class Quiet:
    """A Progress that tells nobody."""

    def item_done(self, change: Change, entry: LockEntry) -> None:
        pass

    def retrying(self, change: Change, error: RetryableError, delay: float) -> None:
        pass

    def running(self, in_flight: int, outcome: Outcome) -> None:
        pass
