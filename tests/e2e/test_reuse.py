"""Audio already made is copied, not bought again: a renamed source file, a duplicated line,
a local target's files; and a copy that cannot be made falls back to synthesis, saying so."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import alibabacloud_oss_v2 as oss
import httpx

from conftest import Runner

Emulator = Callable[..., tuple[str, Path]]
NOTES = ("p1", "p2", "p3")
BUCKET = "my-audio"


def stats(url: str) -> dict[str, dict[str, int]]:
    return dict(httpx.get(f"{url}/_emulator/stats", timeout=10).json())


def sdk(url: str) -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("testid", "testsecret")
    cfg.region = "cn-shanghai"
    cfg.endpoint = url
    cfg.use_path_style = True
    return oss.Client(cfg)


def read(client: oss.Client, key: str) -> tuple[bytes, str]:
    """An object's bytes and ETag, as the official SDK reads them."""
    got = client.get_object(oss.GetObjectRequest(bucket=BUCKET, key=key))
    return got.body.read(), str(got.etag)


def exists(client: oss.Client, key: str) -> bool:
    return bool(client.is_object_exist(BUCKET, key))


def lock_of(root: Path) -> dict[str, dict[str, object]]:
    return dict(json.loads((root / "voxform.lock").read_text())["items"])


def key(folder: str, paragraph: str) -> str:
    return f"course/intro/notes/{folder}/{paragraph}.mp3"


def test_renaming_a_source_file_copies_its_objects_and_bills_nothing(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    client = sdk(applied)
    old = {p: read(client, key("notes", p)) for p in NOTES}
    client.put_object(
        oss.PutObjectRequest(bucket=BUCKET, key="course/intro/by-hand.mp3", body=b"mine")
    )
    (ice_project / "texts/notes.txt").rename(ice_project / "texts/chapter.txt")

    plan = json.loads(voxform(ice_project, "plan", "--json").stdout)
    copies = [c for c in plan["changes"] if c["action"] == "copy"]
    assert [(c["id"], c["from"]) for c in copies] == [
        (f"notes/chapter/{p}", f"notes/notes/{p}") for p in NOTES
    ]
    summary = plan["summary"]
    assert summary["copy"] == 3 and summary["delete"] == 3 and summary["create"] == 0
    assert summary["characters"] == summary["billed_characters"] == 0
    assert summary["copied_characters"] == sum(c["characters"] for c in copies) > 0
    text = voxform(ice_project, "plan").output
    assert "copied from notes/notes/p1, 0 characters billed" in text

    submitted = stats(applied)["calls"]["SubmitAudioProduceJob"]
    result = voxform(ice_project, "apply", "--prune", "--yes", "--max-delete", "100%", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["copied"] == [
        {"id": f"notes/chapter/{p}", "from": f"notes/notes/{p}"} for p in NOTES
    ]
    assert outcome["characters"] == 0 and outcome["copy_fallbacks"] == []
    assert stats(applied)["calls"]["SubmitAudioProduceJob"] == submitted
    assert stats(applied)["oss_calls"]["CopyObject"] == 3
    lock = lock_of(ice_project)
    for p in NOTES:
        assert read(client, key("chapter", p)) == old[p]  # the same bytes, the same ETag
        entry = lock[f"notes/chapter/{p}"]
        name = f"oss://{BUCKET}/{key('chapter', p)}"
        head = client.head_object(oss.HeadObjectRequest(bucket=BUCKET, key=key("chapter", p)))
        assert entry["outputs"][name] == {
            "etag": old[p][1],
            "size": len(old[p][0]),
            "crc64": str(head.hash_crc64),
        }
        assert entry["copied_from"] == f"notes/notes/{p}" and entry["state"] == "finished"
        assert f"notes/notes/{p}" not in lock  # pruned
        # The subtitles, the same audio's timings, are copied and recorded too.
        assert set(entry["subtitles"]) == {"vtt", "srt"}
        for file in entry["subtitles"].values():
            assert (ice_project / file).is_file() and file in entry["outputs"]
    # Prune deletes the old objects, which voxform wrote and are still as recorded; the
    # object put by hand under the same prefix is never touched.
    gone = [f"oss://{BUCKET}/{key('notes', p)}" for p in NOTES]
    assert set(gone) <= set(outcome["deleted"]) and outcome["remote_objects"] == []
    for p in NOTES:
        assert not client.is_object_exist(BUCKET, key("notes", p))
    assert read(client, "course/intro/by-hand.mp3")[0] == b"mine"
    again = voxform(ice_project, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_duplicated_line_is_billed_once(applied: str, ice_project: Path, voxform: Runner) -> None:
    manifest = ice_project / "voxform.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    title: Welcome\n",
            "    title: Welcome\n"
            "  - id: welcome-again\n"
            "    text: Welcome. This course is narrated by a service and stored in OSS.\n",
        )
    )
    plan = json.loads(voxform(ice_project, "plan", "--json").stdout)
    assert [(c["id"], c["action"], c.get("from")) for c in plan["changes"]] == [
        ("welcome-again", "copy", "welcome")
    ]
    assert plan["summary"]["billed_characters"] == 0
    submitted = stats(applied)["calls"]["SubmitAudioProduceJob"]
    result = voxform(ice_project, "apply", "--yes")
    assert result.exit_code == 0, result.output
    assert stats(applied)["calls"]["SubmitAudioProduceJob"] == submitted
    client = sdk(applied)
    assert read(client, "course/intro/welcome-again.mp3") == read(
        client, "course/intro/welcome.mp3"
    )


def test_a_line_added_twice_in_one_change_is_made_once_and_copied(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    manifest = ice_project / "voxform.yaml"
    twice = "".join(
        f"  - id: {name}\n    text: The end of the course, for now.\n" for name in ("end", "fin")
    )
    manifest.write_text(
        manifest.read_text().replace("    title: Welcome\n", "    title: Welcome\n" + twice)
    )
    plan = json.loads(voxform(ice_project, "plan", "--json").stdout)
    assert [(c["id"], c["action"], c.get("from")) for c in plan["changes"]] == [
        ("end", "create", None),
        ("fin", "copy", "end"),
    ]
    assert plan["summary"]["billed_characters"] == len("The end of the course, for now.")
    submitted = stats(applied)["calls"]["SubmitAudioProduceJob"]
    result = voxform(ice_project, "apply", "--yes", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["copied"] == [{"id": "fin", "from": "end"}]
    assert stats(applied)["calls"]["SubmitAudioProduceJob"] == submitted + 1
    client = sdk(applied)
    assert read(client, "course/intro/fin.mp3") == read(client, "course/intro/end.mp3")
    assert lock_of(ice_project)["fin"]["copied_from"] == "end"
    assert voxform(ice_project, "plan", "--detailed-exitcode").exit_code == 0


def test_a_copy_whose_source_was_replaced_by_hand_is_synthesized_instead(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    client = sdk(applied)
    (ice_project / "texts/notes.txt").rename(ice_project / "texts/chapter.txt")
    planfile = ice_project / "reuse.plan"
    plan = voxform(ice_project, "plan", "--out", str(planfile))
    assert plan.exit_code == 0, plan.output
    saved = json.loads(planfile.read_text())
    assert {c["id"]: c.get("from") for c in saved["changes"] if c["action"] == "copy"} == {
        f"notes/chapter/{p}": f"notes/notes/{p}" for p in NOTES
    }
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key("notes", "p2"), body=b"x"))
    submitted = stats(applied)["calls"]["SubmitAudioProduceJob"]

    result = voxform(ice_project, "apply", str(planfile), "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert [c["id"] for c in outcome["copied"]] == ["notes/chapter/p1", "notes/chapter/p3"]
    [fallback] = outcome["copy_fallbacks"]
    assert fallback["id"] == "notes/chapter/p2" and fallback["from"] == "notes/notes/p2"
    assert "PreconditionFailed" in fallback["reason"]
    assert stats(applied)["calls"]["SubmitAudioProduceJob"] == submitted + 1
    entry = lock_of(ice_project)["notes/chapter/p2"]
    assert entry["state"] == "finished" and "copied_from" not in entry and entry["job_id"]
    assert read(client, key("chapter", "p2"))[0] != b"x"  # synthesized, not the stranger
    assert read(client, key("notes", "p2"))[0] == b"x"  # and that one left as it is

    # The text output says so too (another rename, another hand-replaced source).
    (ice_project / "texts/chapter.txt").rename(ice_project / "texts/third.txt")
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key("chapter", "p1"), body=b"y"))
    said = voxform(ice_project, "apply", "--yes")
    assert said.exit_code == 0, said.output
    assert "notes/third/p1: copy from notes/chapter/p1 failed (" in said.output
    assert "synthesized instead" in said.output


def test_a_local_rename_copies_the_files_without_running_the_engine(
    quickstart: Path, voxform: Runner
) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    old_folder = quickstart / "build/audio/chapters/02-joins"
    before = {p.name: (p.read_bytes(), os.stat(p).st_ino) for p in old_folder.iterdir()}
    assert len(before) == 9  # three paragraphs: audio, WebVTT and SRT each
    (quickstart / "texts/chapters/02-joins.md").rename(quickstart / "texts/chapters/02-j.md")

    plan = json.loads(voxform(quickstart, "plan", "--json").stdout)
    assert plan["summary"]["copy"] == 3 and plan["summary"]["characters"] == 0
    result = voxform(quickstart, "apply", "--prune", "--yes", "--max-delete", "100%", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    # Nothing synthesized: no characters and no audio made, three items copied.
    assert outcome["characters"] == 0 and outcome["audio_seconds"] == 0
    assert len(outcome["copied"]) == 3 and len(outcome["finished"]) == 3
    new_folder = quickstart / "build/audio/chapters/02-j"
    after = {p.name: (p.read_bytes(), os.stat(p).st_ino) for p in new_folder.iterdir()}
    assert {n: b for n, (b, _) in after.items()} == {n: b for n, (b, _) in before.items()}
    assert not any(old_folder.iterdir())  # pruned: the copies are files of their own
    lock = lock_of(quickstart)
    assert lock["chapters/02-j/p1"]["copied_from"] == "chapters/02-joins/p1"
    assert voxform(quickstart, "plan", "--detailed-exitcode").exit_code == 0


def test_a_missing_object_whose_audio_is_elsewhere_is_restored_by_copy(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    manifest = ice_project / "voxform.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    title: Welcome\n",
            "    title: Welcome\n"
            "  - id: welcome-again\n"
            "    text: Welcome. This course is narrated by a service and stored in OSS.\n",
        )
    )
    assert voxform(ice_project, "apply", "--yes").exit_code == 0
    client = sdk(applied)
    kept = read(client, "course/intro/welcome.mp3")
    assert read(client, "course/intro/welcome-again.mp3") == kept
    client.delete_object(
        oss.DeleteObjectRequest(bucket=BUCKET, key="course/intro/welcome-again.mp3")
    )

    plan = json.loads(voxform(ice_project, "plan", "--json").stdout)
    [change] = plan["changes"]
    assert (change["id"], change["action"], change.get("from")) == (
        "welcome-again",
        "copy",
        "welcome",
    )
    missing = f"object missing: oss://{BUCKET}/course/intro/welcome-again.mp3"
    assert missing in change["reasons"]
    assert plan["summary"]["billed_characters"] == 0
    text = voxform(ice_project, "plan").output
    assert "copied from welcome, 0 characters billed" in text

    submitted = stats(applied)["calls"]["SubmitAudioProduceJob"]
    result = voxform(ice_project, "apply", "--yes", "--json")
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["copied"] == [{"id": "welcome-again", "from": "welcome"}]
    assert outcome["characters"] == 0 and outcome["copy_fallbacks"] == []
    assert stats(applied)["calls"]["SubmitAudioProduceJob"] == submitted
    assert read(client, "course/intro/welcome-again.mp3") == kept  # the bytes and the ETag
    assert lock_of(ice_project)["welcome-again"]["copied_from"] == "welcome"
    assert voxform(ice_project, "plan", "--detailed-exitcode").exit_code == 0


def test_the_summary_counts_files_and_objects_deleted_apart(
    applied: str, ice_project: Path, voxform: Runner
) -> None:
    (ice_project / "texts/notes.txt").rename(ice_project / "texts/chapter.txt")
    result = voxform(ice_project, "apply", "--prune", "--yes", "--max-delete", "100%")
    assert result.exit_code == 0, result.output
    # Three items' WebVTT and SRT files, and their three objects.
    assert "Deleted 6 file(s) and 3 object(s) it no longer needs." in result.output
