"""Prune deletes objects, against `voxform emulator`: only those the lockfile names, only
while they hold what was recorded; a user's object under the same prefix and one replaced
since are left and said so; a `kill -9` in the middle is put right by the next apply.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import alibabacloud_oss_v2 as oss
import httpx
import pytest

from conftest import Runner, write_files
from e2e.test_oss_outputs import Emulator, sdk

BUCKET = "my-audio"
PREFIX = "course/intro/"
REMOVED = 40  # paragraphs of the source removed before the prune
DEADLINE = 60.0


def lock_items(root: Path) -> dict[str, dict[str, object]]:
    items: dict[str, dict[str, object]] = json.loads((root / "voxform.lock").read_text())["items"]
    return items


def put(client: oss.Client, key: str, body: bytes) -> None:
    client.put_object(oss.PutObjectRequest(bucket=BUCKET, key=key, body=body))


def drop_items(manifest: Path) -> None:
    """Remove the explicit items (welcome, tip) of the ICE example's manifest."""
    text = manifest.read_text()
    manifest.write_text(text[: text.index("items:")] + text[text.index("sources:") :])


def test_prune_deletes_recorded_objects_and_never_one_replaced_or_not_named(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, storage = emulator("--latency", "0.05")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    assert voxform(ice_project, "apply", "--yes").exit_code == 0
    client = sdk(url)
    put(client, PREFIX + "mine.mp3", b"a user's own take")  # under the prefix, not voxform's
    put(client, PREFIX + "tip.mp3", b"replaced by hand")
    drop_items(ice_project / "voxform.yaml")

    shown = voxform(ice_project, "plan")
    assert shown.exit_code == 0, shown.output
    assert f"deletes oss://{BUCKET}/{PREFIX}welcome.mp3" in shown.output
    assert f"keeps oss://{BUCKET}/{PREFIX}tip.mp3: changed since voxform wrote it" in shown.output
    assert "mine.mp3" not in shown.output
    document = json.loads(voxform(ice_project, "plan", "--json").stdout)
    assert document["summary"]["objects_to_prune"] == 1
    welcome = next(c for c in document["changes"] if c["id"] == "welcome")
    assert f"oss://{BUCKET}/{PREFIX}welcome.mp3" in welcome["deletes"]

    result = voxform(ice_project, "apply", "--yes", "--prune", "--max-delete", "100%")
    assert result.exit_code == 0, result.output
    bucket = storage / BUCKET / PREFIX
    assert not (bucket / "welcome.mp3").exists()
    assert (bucket / "tip.mp3").read_bytes() == b"replaced by hand"
    assert (bucket / "mine.mp3").read_bytes() == b"a user's own take"
    assert sorted(p.name for p in (bucket / "notes/notes").iterdir()) == [
        "p1.mp3",
        "p2.mp3",
        "p3.mp3",
    ]
    assert set(lock_items(ice_project)) == {"notes/notes/p1", "notes/notes/p2", "notes/notes/p3"}
    report = json.loads(voxform(ice_project, "apply", "--yes", "--prune", "--json").stdout or "{}")
    assert report.get("pruned", []) == []  # nothing left to prune
    assert voxform(ice_project, "plan", "--detailed-exitcode").exit_code == 0


def test_a_changed_format_deletes_the_old_objects_after_the_update_but_not_a_replaced_one(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, storage = emulator("--latency", "0.05")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    assert voxform(ice_project, "apply", "--yes").exit_code == 0
    put(sdk(url), PREFIX + "tip.mp3", b"replaced by hand")
    manifest = ice_project / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("format: mp3", "format: wav"))

    shown = voxform(ice_project, "plan")
    assert f"deletes oss://{BUCKET}/{PREFIX}welcome.mp3" in shown.output
    assert f"keeps oss://{BUCKET}/{PREFIX}tip.mp3" in shown.output

    result = voxform(ice_project, "apply", "--yes")
    assert result.exit_code == 0, result.output
    bucket = storage / BUCKET / PREFIX
    assert sorted(p.name for p in bucket.iterdir() if p.is_file()) == [
        "tip.mp3",
        "tip.wav",
        "welcome.wav",
    ]
    assert (bucket / "tip.mp3").read_bytes() == b"replaced by hand"
    assert sorted(p.name for p in (bucket / "notes/notes").iterdir()) == [
        "p1.wav",
        "p2.wav",
        "p3.wav",
    ]
    for entry in lock_items(ice_project).values():
        named = [n for n in entry["outputs"] if n.startswith("oss://")]  # type: ignore[attr-defined]
        assert len(named) == 1 and named[0].endswith(".wav"), named
    assert voxform(ice_project, "plan", "--detailed-exitcode").exit_code == 0


# -- kill -9 in the middle of a prune -----------------------------------------------------------


def oss_calls(url: str) -> dict[str, int]:
    return dict(httpx.get(f"{url}/_emulator/stats", timeout=10).json()["oss_calls"])


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two explicit items and a source of REMOVED paragraphs, one ICE target."""
    paragraphs = "\n\n".join(f"Paragraph number {n} is spoken here." for n in range(REMOVED))
    root = write_files(
        tmp_path / "book",
        {
            "voxform.yaml": f"""
                version: 1
                targets:
                  oss: {{provider: ice, bucket: {BUCKET}, prefix: {PREFIX}}}
                voices:
                  narrator: {{voice: siqi}}
                defaults: {{voice: narrator, target: oss}}
                items:
                  - {{id: keep1, text: The first item stays.}}
                  - {{id: keep2, text: The second item stays too.}}
                sources:
                  - {{id: book, glob: texts/*.md, split: paragraph}}
                """,
            "texts/book.md": paragraphs + "\n",
        },
    )
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_PROFILE", raising=False)
    return root


@pytest.mark.parametrize("moment", ["ListObjectsV2", "DeleteMultipleObjects"])
def test_kill_9_during_a_prune_then_apply_again_deletes_exactly_the_removed_objects(
    emulator: Emulator, book: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    url, storage = emulator("--latency", "0.05", "--synthesis", "silence")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    assert voxform(book, "apply", "--yes").exit_code == 0
    put(sdk(url), PREFIX + "mine.mp3", b"a user's own take")
    bucket = storage / BUCKET / PREFIX
    before = {p.relative_to(bucket).as_posix() for p in bucket.rglob("*") if p.is_file()}
    removed = {f"book/book/p{n}.mp3" for n in range(1, REMOVED + 1)}
    assert removed <= before
    manifest = book / "voxform.yaml"
    text = manifest.read_text()
    manifest.write_text(text[: text.index("sources:")])

    # The same bucket, every call held a while: the kill lands inside the prune.
    slow, _ = emulator("--storage", str(storage), "--slow-requests", "1", "--slow-seconds", "0.3")
    env = {**os.environ, "VOXFORM_ICE_ENDPOINT": slow}
    command = [sys.executable, "-m", "voxform", "-C", str(book), "apply", "--yes", "--prune"]
    process = subprocess.Popen(
        [*command, "--max-delete", "100%"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    # The plan reads one page; the prune's own look is the second, its delete the third call.
    wanted = 2 if moment == "ListObjectsV2" else 1
    deadline = time.monotonic() + DEADLINE
    while oss_calls(slow)[moment] < wanted:
        assert process.poll() is None, "the prune ended before the moment to stop it"
        assert time.monotonic() < deadline, f"no {moment} call within the deadline"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    result = voxform(book, "apply", "--yes", "--prune", "--max-delete", "100%")
    assert result.exit_code == 0, result.output
    after = {p.relative_to(bucket).as_posix() for p in bucket.rglob("*") if p.is_file()}
    assert after == before - removed  # each removed object gone, nothing else
    assert set(lock_items(book)) == {"keep1", "keep2"}
    assert not (book / ".voxform" / "voxform.lock.journal").exists()
    assert voxform(book, "plan", "--detailed-exitcode").exit_code == 0
