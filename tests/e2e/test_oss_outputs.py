"""What the bucket holds, recorded: after an ICE apply against `voxform emulator`, each
item's object (size, ETag) is in the lockfile, read with one listing, not a head each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import alibabacloud_oss_v2 as oss
import httpx

from conftest import Runner

Emulator = Callable[..., tuple[str, Path]]
IDS = {"welcome", "tip", "notes/notes/p1", "notes/notes/p2", "notes/notes/p3"}


def oss_calls(url: str) -> dict[str, int]:
    return dict(httpx.get(f"{url}/_emulator/stats", timeout=10).json()["oss_calls"])


def sdk(url: str) -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("testid", "testsecret")
    cfg.region = "cn-shanghai"
    cfg.endpoint = url
    cfg.use_path_style = True
    return oss.Client(cfg)


def objects(root: Path) -> dict[str, dict[str, object]]:
    lock = json.loads((root / "voxform.lock").read_text())["items"]
    found = {}
    for item_id, entry in lock.items():
        named = [name for name in entry.get("outputs", {}) if name.startswith("oss://")]
        assert len(named) <= 1, entry
        if named:
            found[item_id] = {"name": named[0], **entry["outputs"][named[0]]}
    return found


def test_apply_records_each_object_as_the_sdk_reads_it(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    # Five objects: one listing page, no HeadObject, no GetObject.
    calls = oss_calls(applied)
    assert calls["ListObjectsV2"] == 1 and sum(calls.values()) == 1, calls
    recorded = objects(ice_project)
    assert set(recorded) == IDS
    client = sdk(applied)
    for item_id, found in recorded.items():
        assert found["name"] == f"oss://my-audio/course/intro/{item_id}.mp3"
        head = client.head_object(
            oss.HeadObjectRequest(bucket="my-audio", key=f"course/intro/{item_id}.mp3")
        )
        assert (found["etag"], found["size"]) == (head.etag, head.content_length)
    lock = json.loads((ice_project / "voxform.lock").read_text())["items"]
    assert all(e["audio_digest"].startswith("sha256:") for e in lock.values())
    sdk_heads = sum(oss_calls(applied).values())

    result = voxform(ice_project, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes" in result.output
    # plan reads what the bucket holds: one listing page for the five objects
    assert sum(oss_calls(applied).values()) == sdk_heads + 1
    assert oss_calls(applied)["ListObjectsV2"] == 2


def test_refresh_records_objects_of_items_finished_before_they_were_recorded(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    before = objects(ice_project)
    path = ice_project / "voxform.lock"
    document = json.loads(path.read_text())
    for entry in document["items"].values():
        entry["outputs"] = {k: v for k, v in entry["outputs"].items() if not k.startswith("oss://")}
        del entry["audio_digest"]
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    assert voxform(ice_project, "plan", "--detailed-exitcode").exit_code == 0
    assert objects(ice_project) == {}

    result = voxform(ice_project, "refresh")
    assert result.exit_code == 0, result.output
    assert "Recorded the objects of 5 finished items" in result.output
    assert objects(ice_project) == before
    assert oss_calls(applied)["ListObjectsV2"] == 2  # one for apply, one for refresh

    again = voxform(ice_project, "refresh")
    assert again.exit_code == 0 and "Recorded" not in again.output
    # all recorded: nothing to record, and the drift check reads one page
    assert sum(oss_calls(applied).values()) == 3


def test_an_item_applied_alone_is_read_by_one_head_with_its_crc64(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    result = voxform(ice_project, "apply", "--yes", "--replace", "welcome")
    assert result.exit_code == 0, result.output
    welcome = objects(ice_project)["welcome"]
    assert welcome["crc64"].isdigit()  # a head tells it; a listing does not
    calls = oss_calls(applied)
    # a listing each for the two applies' drift checks and the first one's record
    assert (calls["ListObjectsV2"], calls["HeadObject"]) == (2, 1), calls
