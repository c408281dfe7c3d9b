"""`voxform pull`: an ICE project's audio from the emulator's bucket into the project, each
object downloaded once, checked, never through a link, never outside the project."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conftest import Runner, write_files
from e2e.conftest import Emulator, start_emulator, stop_emulator
from voxform.cli.main import cli

ITEMS = 1000


def stats(url: str) -> dict:
    return httpx.get(f"{url}/_emulator/stats", timeout=10).json()


def pull(voxform: Runner, root: Path, *args: str) -> tuple[int, dict]:
    result = voxform(root, "pull", "--json", *args)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout)


def objects(storage: Path) -> dict[str, bytes]:
    """The bucket's objects below the prefix, by the path pull gives them."""
    base = storage / "pull-audio" / "course"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*.mp3")}


def pulled(root: Path, folder: str = "build/oss") -> dict[str, bytes]:
    base = root / folder
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*.mp3")}


@pytest.fixture(scope="module")
def applied_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,000-item ICE project applied once for the module against an emulator of its own:
    the project in book/, the emulator's storage in oss/. Each test pulls from a copy."""
    base = tmp_path_factory.mktemp("pull-applied")
    files = {
        f"texts/part{f:02d}.md": "\n\n".join(
            f"Paragraph {n} of part {f} is spoken here." for n in range(ITEMS // 10)
        )
        for f in range(10)
    }
    files["voxform.yaml"] = """
        version: 1
        targets:
          oss:
            provider: ice
            bucket: pull-audio
            prefix: course/
            rate_limits: {SubmitAudioProduceJob: 2000, GetSmartHandleJob: 2000}
        voices:
          narrator: {voice: siqi}
        defaults: {voice: narrator, target: oss, format: mp3}
        sources:
          - {id: book, glob: texts/*.md, split: paragraph}
        """
    root = write_files(base / "book", files)
    process, url = start_emulator(base / "oss", "--synthesis", "silence", "--latency", "0")
    try:
        with pytest.MonkeyPatch.context() as env:
            credentials(env, url)
            result = CliRunner().invoke(cli, ["-C", str(root), "apply", "--yes", "--json"])
    finally:
        stop_emulator(process)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["finished"]) == ITEMS
    return base


def credentials(env: pytest.MonkeyPatch, url: str) -> None:
    """The emulator's key pair and its URL for ICE and OSS, in the environment."""
    for name, value in (
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
        ("VOXFORM_ICE_ENDPOINT", url),
        ("VOXFORM_OSS_ENDPOINT", url),
    ):
        env.setenv(name, value)
    env.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)


@pytest.fixture
def applied(
    applied_once: Path, tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Path]:
    """A copy of the applied 1,000-item project and of its bucket, served by a fresh emulator
    (its call counts start at zero): (root, url, storage)."""
    root = shutil.copytree(applied_once / "book", tmp_path / "book", symlinks=True)
    storage = shutil.copytree(applied_once / "oss", tmp_path / "applied-oss", symlinks=True)
    url, _ = emulator("--storage", str(storage), "--synthesis", "silence", "--latency", "0")
    credentials(monkeypatch, url)
    return root, url, storage


def test_pulling_1000_items_downloads_each_object_once_then_only_what_changed(
    applied: tuple[Path, str, Path], voxform: Runner
) -> None:
    root, url, storage = applied
    code, first = pull(voxform, root)
    assert code == 0, first
    assert len(first["downloaded"]) == ITEMS and first["failed"] == []
    assert first["calls"] == {"GetObject": ITEMS, "ListObjectsV2": 1}
    assert stats(url)["oss_calls"]["GetObject"] == ITEMS
    assert pulled(root) == objects(storage)

    code, second = pull(voxform, root)
    assert code == 0 and second["downloaded"] == [] and len(second["unchanged"]) == ITEMS
    assert second["calls"] == {"ListObjectsV2": 1}
    assert stats(url)["oss_calls"]["GetObject"] == ITEMS

    edited = root / "build/oss/book/part03/p7.mp3"
    data = edited.read_bytes()
    edited.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit off
    (root / "build/oss/book/part05/p1.mp3").unlink()
    touched = root / "build/oss/book/part06/p2.mp3"
    os.utime(touched, ns=(1, 1))  # the stat changes, the bytes do not
    code, third = pull(voxform, root)
    assert code == 0
    assert sorted(d["id"] for d in third["downloaded"]) == ["book/part03/p7", "book/part05/p1"]
    assert "book/part06/p2" in third["unchanged"]
    assert pulled(root) == objects(storage)

    for name in ("part02/p3", "part02/p4", "part09/p5"):
        (root / f"build/oss/book/{name}.mp3").unlink()
    code, chosen = pull(voxform, root, "--select", "book/part02/*")
    assert code == 0
    assert sorted(d["file"] for d in chosen["downloaded"]) == [
        "build/oss/book/part02/p3.mp3",
        "build/oss/book/part02/p4.mp3",
    ]
    assert len(chosen["unchanged"]) == ITEMS // 10 - 2
    assert not (root / "build/oss/book/part09/p5.mp3").exists()
    assert stats(url)["oss_calls"]["GetObject"] == ITEMS + 4


def test_corrupted_downloads_are_refused_not_kept_and_a_clean_run_completes(
    applied: tuple[Path, str, Path], emulator: Emulator, voxform: Runner, monkeypatch
) -> None:
    root, _, storage = applied
    corrupting, _ = emulator("--storage", str(storage), "--corrupt-reads", "0.2", "--seed", "3")
    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", corrupting)
    code, outcome = pull(voxform, root)
    assert outcome["refused"] > 0  # about one read in five was refused
    failed = {f["id"] for f in outcome["failed"]}
    gets = ITEMS - len(failed) + outcome["refused"]  # each refusal is one more read
    assert stats(corrupting)["oss_calls"]["GetObject"] == gets
    assert code == (1 if failed else 0)
    assert all(f["code"] == "CrcMismatch" for f in outcome["failed"])
    expected = objects(storage)
    kept = pulled(root)
    assert len(kept) == ITEMS - len(failed)
    assert all(expected[name] == data for name, data in kept.items())  # nothing corrupt kept

    everything_bad, _ = emulator("--storage", str(storage), "--corrupt-reads", "1")
    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", everything_bad)
    (root / "build/oss/book/part00/p1.mp3").unlink()
    result = voxform(root, "pull", "--select", "book/part00/p1")
    assert result.exit_code == 1
    assert "book/part00/p1: failed: CrcMismatch" in result.output
    assert "not kept" in result.output
    assert not (root / "build/oss/book/part00/p1.mp3").exists()
    assert not list((root / "build/oss/book/part00").glob(".*"))  # no partial file either

    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", applied[1])
    code, clean = pull(voxform, root)
    assert code == 0 and len(clean["downloaded"]) == len(failed) + 1
    assert pulled(root) == objects(storage)


@pytest.fixture
def small(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Path]:
    """examples/ice-emulator applied: (root, url, storage)."""
    url, storage = emulator("--synthesis", "silence", "--latency", "0")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", url)
    assert voxform(ice_project, "apply", "--yes").exit_code == 0
    return ice_project, url, storage


def test_pull_into_a_folder_writes_only_inside_the_project(
    small: tuple[Path, str, Path], voxform: Runner, tmp_path: Path
) -> None:
    root, _, storage = small
    outside = tmp_path / "outside"
    outside.mkdir()
    for where in ("../outside", str(outside), ".voxform/audio", "build/../../outside"):
        result = voxform(root, "pull", where)
        assert result.exit_code == 1, (where, result.output)
        assert "error:" in result.output
    assert list(outside.iterdir()) == []
    assert not (root / ".voxform/audio").exists()

    code, outcome = pull(voxform, root, "listen/takes")
    assert code == 0 and outcome["folders"] == ["listen/takes"]
    assert (root / "listen/takes/welcome.mp3").read_bytes() == (
        storage / "my-audio/course/intro/welcome.mp3"
    ).read_bytes()
    assert (root / "listen/takes/notes/notes/p2.mp3").is_file()
    assert not (root / "build").exists()


def test_pull_never_writes_through_a_symlink(
    small: tuple[Path, str, Path], voxform: Runner, tmp_path: Path
) -> None:
    root, _, _ = small
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "build").mkdir()
    (root / "build/oss").symlink_to(outside)
    code, outcome = pull(voxform, root)
    assert code == 1
    assert {f["code"] for f in outcome["failed"]} == {"UnsafePath"}
    assert list(outside.iterdir()) == []

    (root / "build/oss").unlink()
    (root / "build/oss").mkdir()
    victim = tmp_path / "victim.mp3"
    victim.write_bytes(b"mine")
    (root / "build/oss/tip.mp3").symlink_to(victim)
    code, outcome = pull(voxform, root)
    assert code == 1
    assert [f["id"] for f in outcome["failed"]] == ["tip"]
    assert "symlink" in outcome["failed"][0]["message"]
    assert victim.read_bytes() == b"mine"
    assert len(outcome["downloaded"]) == 4


def test_only_finished_ice_items_are_pulled(
    ice_project: Path, quickstart: Path, voxform: Runner
) -> None:
    code, outcome = pull(voxform, ice_project)
    assert code == 0 and "downloaded" not in outcome
    assert any("not finished" in w["message"] for w in outcome["warnings"])
    result = voxform(quickstart, "pull")
    assert result.exit_code == 0 and "on local targets" in result.output
    result = voxform(ice_project, "pull", "--select", "welcom")
    assert result.exit_code == 1 and "did you mean 'welcome'" in result.output
