"""Drift for objects: what the bucket holds is checked by `plan`, against `voxform emulator`.

An object deleted by hand and another overwritten by hand each plan as an update naming
the object, `apply` puts both right, and the next plan says no changes. `--no-refresh`
reads no bucket and says so; a bucket that cannot be read is one error, not a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import alibabacloud_oss_v2 as oss
import pytest

from conftest import Runner
from e2e.test_oss_outputs import objects, oss_calls, sdk

BUCKET = "my-audio"
WELCOME = "course/intro/welcome.mp3"
TIP = "course/intro/tip.mp3"
NOT_READ = "the buckets were not read (--no-refresh)"


def tamper(url: str) -> oss.Client:
    """Delete welcome's object and overwrite tip's, as a user would with the SDK."""
    client = sdk(url)
    client.delete_object(oss.DeleteObjectRequest(bucket=BUCKET, key=WELCOME))
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=TIP, body=b"not the narration"))
    return client


def plan_json(root: Path, voxform: Runner, *args: str) -> dict[str, object]:
    result = voxform(root, "plan", "--json", *args)
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_objects_deleted_or_overwritten_by_hand_plan_as_updates_and_apply_restores_them(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    client = tamper(applied)
    before = oss_calls(applied)

    document = plan_json(ice_project, voxform)
    changes = {c["id"]: c for c in document["changes"]}  # type: ignore[attr-defined]
    assert set(changes) == {"welcome", "tip"}
    assert changes["welcome"]["action"] == "update"
    assert changes["welcome"]["reasons"] == [f"object missing: oss://{BUCKET}/{WELCOME}"]
    assert changes["tip"]["action"] == "update"
    assert changes["tip"]["reasons"] == [f"object changed: oss://{BUCKET}/{TIP}"]
    assert document["warnings"] == []
    after = oss_calls(applied)
    # Five objects under one prefix: one listing page, no head.
    assert after["ListObjectsV2"] - before["ListObjectsV2"] == 1
    assert sum(after.values()) - sum(before.values()) == 1

    text = voxform(ice_project, "plan")
    assert f"object missing: oss://{BUCKET}/{WELCOME}" in text.output

    result = voxform(ice_project, "apply", "--yes")
    assert result.exit_code == 0, result.output
    recorded = objects(ice_project)
    for item_id, key in (("welcome", WELCOME), ("tip", TIP)):
        head = client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key))
        assert head.content_length and head.content_length > 100  # narration again
        assert (recorded[item_id]["etag"], recorded[item_id]["size"]) == (
            head.etag,
            head.content_length,
        )

    again = voxform(ice_project, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output


@pytest.mark.parametrize("flag", [("--no-refresh",), ("--refresh=false",)])
def test_no_refresh_reads_no_bucket_and_says_so(
    applied: str, ice_project: Path, voxform: Runner, flag: tuple[str, ...]
) -> None:
    tamper(applied)
    before = oss_calls(applied)

    document = plan_json(ice_project, voxform, *flag)
    assert document["changes"] == []
    assert document["warnings"] == [{"message": NOT_READ + _NOT_READ_TAIL}]
    text = voxform(ice_project, "plan", *flag)
    assert "No changes" in text.output and NOT_READ in text.output
    assert oss_calls(applied) == before

    refreshed = plan_json(ice_project, voxform, "--refresh")  # a bare --refresh: true
    assert {c["id"] for c in refreshed["changes"]} == {"welcome", "tip"}  # type: ignore[attr-defined]


_NOT_READ_TAIL = ": an object deleted or replaced there since apply recorded it is not shown"


def test_a_bucket_that_cannot_be_read_is_one_error_suggesting_no_refresh(
    applied: str, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "wrongsecret")
    result = voxform(ice_project, "plan")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "cannot read what bucket 'my-audio' of target 'oss' holds" in errors[0]
    assert "SignatureDoesNotMatch" in errors[0] and "wrongsecret" not in errors[0]
    assert "--no-refresh" in errors[0]

    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", "http://127.0.0.1:9")  # nothing listens
    down = voxform(ice_project, "plan", "--json")
    assert down.exit_code == 1
    document = json.loads(down.stdout)
    assert len(document["errors"]) == 1 and "--no-refresh" in document["errors"][0]["message"]

    offline = voxform(ice_project, "plan", "--no-refresh", "--detailed-exitcode")
    assert offline.exit_code == 0, offline.output


def test_an_invalid_project_is_told_before_a_bucket_that_cannot_be_read(
    applied: str, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The buckets are read on a thread beside the plan's own checks (cli/plan.py): an item
    # that cannot render is found before any of that starts, and is the one error told.
    manifest = ice_project / "voxform.yaml"
    welcome = "Welcome. This course is narrated by a service and stored in OSS."
    manifest.write_text(manifest.read_text().replace(welcome, "word " * 3000))
    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", "http://127.0.0.1:9")  # nothing listens

    result = voxform(ice_project, "plan")

    assert result.exit_code == 1
    assert "item 'welcome' renders to 15033 characters" in result.output
    assert "cannot read what bucket" not in result.output
    assert "Traceback" not in result.output


def test_refresh_tells_the_objects_that_drifted(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    tamper(applied)
    result = voxform(ice_project, "refresh")
    assert result.exit_code == 0, result.output
    assert f"welcome: object missing: oss://{BUCKET}/{WELCOME}" in result.output
    assert f"tip: object changed: oss://{BUCKET}/{TIP}" in result.output
    lock = json.loads((ice_project / "voxform.lock").read_text())["items"]
    assert f"oss://{BUCKET}/{WELCOME}" in lock["welcome"]["outputs"]  # still the promise
