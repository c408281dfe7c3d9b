"""The bucket as a Storage, paced: what many objects hold is read by listing (one call per
1,000 objects), a few by heads; calls throttled by OSS are slowed and retried, never lost;
copies and deletions only while the object is still what was recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.conftest import StartEmulator
from voxform.apply.paced_storage import PacedStorage
from voxform.emulator.service import Emulator
from voxform.providers.credentials import Credentials
from voxform.providers.oss_client import OssClient
from voxform.providers.oss_endpoint import oss_endpoint_for
from voxform.providers.oss_errors import ObjectConflict
from voxform.providers.oss_storage import OssStorage, survey
from voxform.state.outputs import ObjectDigest


def storage_for(emulator: Emulator) -> OssStorage:
    endpoint = oss_endpoint_for("audio", "cn-shanghai", emulator.url)
    return OssStorage(OssClient(endpoint, Credentials("testid", "testsecret", None, "test")))


def plant(emulator: Emulator, count: int, prefix: str = "book/") -> list[str]:
    folder = emulator.storage / "audio" / prefix
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"{n:05d}.mp3").write_bytes(f"audio {n}".encode())
    return [f"oss://audio/{prefix}{n:05d}.mp3" for n in range(count)]


def oss_calls(emulator: Emulator) -> dict[str, int]:
    return dict(emulator.stats()["oss_calls"])


@pytest.mark.parametrize(("objects", "pages"), [(999, 1), (1000, 1), (2500, 3)])
def test_many_objects_are_read_with_one_listing_page_per_thousand(
    start_emulator: StartEmulator, objects: int, pages: int
) -> None:
    emulator = start_emulator(synthesis="silence", latency=0)
    names = plant(emulator, objects)
    plant(emulator, 30, prefix="other/")  # outside the names' common prefix: never listed
    with storage_for(emulator) as storage:
        found = survey(PacedStorage(storage, {}), names)
    assert all(isinstance(found[n], ObjectDigest) for n in names)
    assert found[names[7]] == ObjectDigest(found[names[7]].etag, len(b"audio 7"))
    calls = oss_calls(emulator)
    assert calls["ListObjectsV2"] == pages and calls["HeadObject"] == 0, calls


def test_a_few_objects_are_read_by_heads_which_tell_the_crc64(
    start_emulator: StartEmulator,
) -> None:
    emulator = start_emulator(synthesis="silence", latency=0)
    names = plant(emulator, 3)
    with storage_for(emulator) as storage:
        found = survey(storage, [*names, "oss://audio/book/missing.mp3"][1:])
    assert found["oss://audio/book/missing.mp3"] is None
    assert all(isinstance(d, ObjectDigest) and d.crc64 is not None for d in found.values() if d)
    assert oss_calls(emulator)["HeadObject"] == 3


def test_throttled_listings_are_slowed_and_retried(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(
        synthesis="silence", latency=0, rate_limits={"ListObjectsV2": 2.0, "HeadObject": 2.0}
    )
    names = plant(emulator, 40)
    with storage_for(emulator) as storage:
        paced = PacedStorage(storage, {}, seed=1)
        for _ in range(6):
            found = survey(paced, names[:5])
            assert all(found.values())
    assert emulator.stats()["oss_throttled"]["ListObjectsV2"] >= 1  # met, and came through


def test_copy_and_delete_only_while_the_object_is_what_was_recorded(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    emulator = start_emulator(synthesis="silence", latency=0)
    names = plant(emulator, 3)
    with storage_for(emulator) as storage:
        recorded = {n: storage.head(n) for n in names}
        source = names[0]
        expected = recorded[source]
        assert isinstance(expected, ObjectDigest)
        copied = storage.copy_if_match(source, expected, "oss://audio/copies/0.mp3")
        assert copied.size == expected.size
        assert (emulator.storage / "audio/copies/0.mp3").read_bytes() == b"audio 0"
        (emulator.storage / "audio/book/00000.mp3").write_bytes(b"replaced by hand")
        with pytest.raises(ObjectConflict):
            storage.copy_if_match(source, expected, "oss://audio/copies/1.mp3")
        done = storage.delete_many_if_match({n: d for n, d in recorded.items() if d})
        assert set(done.deleted) == set(names[1:])
        assert [name for name, _ in done.kept] == [source]
        assert (emulator.storage / "audio/book/00000.mp3").read_bytes() == b"replaced by hand"
        got = storage.get("oss://audio/copies/0.mp3", copied, tmp_path / "take.mp3")
        assert (tmp_path / "take.mp3").read_bytes() == b"audio 0" and got.crc64 is not None
