"""Where a silent job's audio goes: made in one call below the storage when it can be,
else the way that resolves the path, with the same outcomes either way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.calls import final_job, submit
from voxform.emulator.service import Emulator


@pytest.fixture
def emulator_options() -> dict[str, object]:
    return {"synthesis": "silence", "latency": 0.02}


def job(emulator: Emulator, name: str) -> dict[str, object]:
    output = json.dumps({"bucket": "narration", "object": name})
    answer = submit(emulator, OutputConfig=output).json()
    return final_job(emulator, answer["JobId"])


def test_objects_new_and_again_in_new_and_known_folders_hold_the_audio(
    emulator: Emulator,
) -> None:
    names = ["one/a", "one/b", "two/deep/c", "one/a"]  # a new folder, a known one, again
    for name in names:
        assert job(emulator, name)["State"] == "Finished"
    first = (emulator.storage / "narration/one/a.mp3").read_bytes()
    assert first
    for name in names:
        assert (emulator.storage / f"narration/{name}.mp3").read_bytes() == first
    listed = sorted(str(p.relative_to(emulator.storage)) for p in emulator.storage.rglob("*"))
    assert listed == [
        "narration",
        "narration/one",
        "narration/one/a.mp3",
        "narration/one/b.mp3",
        "narration/two",
        "narration/two/deep",
        "narration/two/deep/c.mp3",
    ]


def test_a_folder_that_is_a_symlink_out_of_the_storage_fails_the_job(
    emulator: Emulator, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    assert job(emulator, "first/x")["State"] == "Finished"  # the storage is open by now
    (emulator.storage / "narration/out").symlink_to(outside, target_is_directory=True)
    ended = job(emulator, "out/x")
    assert (ended["State"], ended["ErrorCode"]) == ("Failed", "InternalError")
    assert list(outside.iterdir()) == []


def test_a_folder_that_is_a_symlink_inside_the_storage_is_written_through(
    emulator: Emulator,
) -> None:
    assert job(emulator, "real/x")["State"] == "Finished"
    (emulator.storage / "narration/alias").symlink_to("real", target_is_directory=True)
    assert job(emulator, "alias/y")["State"] == "Finished"
    assert (emulator.storage / "narration/real/y.mp3").is_file()


def test_an_object_that_is_a_symlink_is_not_written_through_out_of_the_storage(
    emulator: Emulator, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.mp3"
    victim.write_bytes(b"mine")
    assert job(emulator, "real/x")["State"] == "Finished"
    (emulator.storage / "narration/real/tip.mp3").symlink_to(victim)
    ended = job(emulator, "real/tip")
    assert ended["State"] == "Failed"
    assert victim.read_bytes() == b"mine"
