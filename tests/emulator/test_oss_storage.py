"""The bucket as a Storage, paced: what many objects hold is read by listing (one call per
1,000 objects), a few by heads; calls throttled by OSS are slowed and retried, never lost;
copies and deletions only while the object is still what was recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.conftest import StartEmulator
from voxform.apply.paced_storage import PacedStorage
from voxform.emulator.service import Emulator
from voxform.errors import ItemError
from voxform.providers.credentials import Credentials
from voxform.providers.oss_client import OssClient
from voxform.providers.oss_endpoint import oss_endpoint_for
from voxform.providers.oss_errors import ObjectConflict
from voxform.providers.oss_storage import OssStorage, survey
from voxform.providers.protocol import StoredPage
from voxform.state.outputs import ObjectDigest, Output


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


def test_pages_read_at_once_say_what_a_head_of_each_object_says(
    start_emulator: StartEmulator,
) -> None:
    # Names in several ranges, each listed from after the range before it: objects between
    # the names (not asked for), deleted ones and a replaced one are told as heads tell them.
    emulator = start_emulator(synthesis="silence", latency=0)
    planted = plant(emulator, 3300)
    asked = [n for i, n in enumerate(planted) if i % 7]  # the rest lie between them
    asked += ["oss://audio/book/03300.mp3", "oss://audio/book/99999.mp3"]  # never there
    folder = emulator.storage / "audio/book"
    for n in (0, 999, 1000, 1001, 2000, 2999, 3299):
        (folder / f"{n:05d}.mp3").unlink()  # ends of pages and ranges among them
    (folder / "01500.mp3").write_bytes(b"replaced")
    with storage_for(emulator) as storage:
        heads = {n: storage.head(n) for n in asked}
        before = oss_calls(emulator).get("ListObjectsV2", 0)
        found = survey(PacedStorage(storage, {}), list(reversed(asked)))
    assert list(found) == list(reversed(asked))
    assert {n: d for n, d in found.items()} == {
        n: None if h is None else ObjectDigest(h.etag, h.size) for n, h in heads.items()
    }
    assert found["oss://audio/book/01500.mp3"] == ObjectDigest(
        heads["oss://audio/book/01500.mp3"].etag,
        len(b"replaced"),  # type: ignore[union-attr]
    )
    assert oss_calls(emulator)["ListObjectsV2"] - before <= 5  # 3 ranges, at most 2 pages


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


def test_a_listing_that_fails_fails_the_survey_once_every_listing_stopped(
    start_emulator: StartEmulator,
) -> None:
    emulator = start_emulator(synthesis="silence", latency=0)
    names = plant(emulator, 2500)
    with storage_for(emulator) as storage:
        refusing = Refusing(storage, refused=names[999])  # where the second range starts
        with pytest.raises(ItemError, match="refused"):
            survey(refusing, names)
        # each range began where the one before it ends, and none read a second page
        assert refusing.afters <= {None, names[999], names[1999]}
        assert refusing.pages == {None}


class Refusing:
    """A bucket that refuses a listing that starts after `refused`."""

    def __init__(self, storage: OssStorage, refused: str) -> None:
        self.storage = storage
        self.refused = refused
        self.pages: set[str | None] = set()
        self.afters: set[str | None] = set()
        self.operations = storage.operations

    def head(self, name: str) -> Output | None:
        return self.storage.head(name)

    def list(self, prefix: str, page: str | None = None, *, after: str | None = None) -> StoredPage:
        self.pages.add(page)
        self.afters.add(after)
        if after == self.refused:
            raise ItemError("refused")
        return self.storage.list(prefix, page, after=after)
