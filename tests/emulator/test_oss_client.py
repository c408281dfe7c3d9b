"""voxform's own OSS client against the emulator: every operation, errors in voxform's tree
with the request id and never the secret, and a corrupted download refused, not kept."""

from __future__ import annotations

from pathlib import Path

import alibabacloud_oss_v2 as oss
import httpx
import pytest

from emulator.conftest import StartEmulator
from voxform.emulator.service import Emulator
from voxform.errors import FatalError, ItemError, RetryableError, ThrottledError
from voxform.oss.crc64 import crc64
from voxform.providers.credentials import Credentials
from voxform.providers.oss_client import OssClient
from voxform.providers.oss_endpoint import oss_endpoint_for
from voxform.providers.oss_errors import DownloadCorrupted, ObjectConflict, ObjectMissing


def client_for(emulator: Emulator, secret: str = "testsecret") -> OssClient:
    endpoint = oss_endpoint_for("audio", "cn-shanghai", emulator.url)
    return OssClient(endpoint, Credentials("testid", secret, None, source="test"))


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> Emulator:
    return start_emulator(synthesis="silence", latency=0)


@pytest.fixture
def client(emulator: Emulator) -> OssClient:
    return client_for(emulator)


def test_put_head_get_list_copy_and_delete(
    client: OssClient, emulator: Emulator, tmp_path: Path
) -> None:
    keys = [f"course/{n:04d} ~+%.mp3" for n in range(5)] + ["other/x.mp3"]
    for key in keys:
        written = client.put_object(key, key.encode(), forbid_overwrite=True)
        assert written.crc64 == crc64(key.encode())
    info = client.head_object(keys[1])
    assert (info.size, info.crc64) == (len(keys[1].encode()), crc64(keys[1].encode()))
    got = client.get_object(keys[2], tmp_path / "pulled" / "two.mp3")
    assert (tmp_path / "pulled" / "two.mp3").read_bytes() == keys[2].encode()
    assert got.etag == client.head_object(keys[2]).etag

    first = client.list_page("course/", max_keys=2)
    assert [o.key for o in first.objects] == keys[:2] and first.next_token
    assert [o.key for o in client.list_objects("course/")] == keys[:5]
    assert all(o.etag == client.head_object(o.key).etag for o in client.list_objects())

    copied = client.copy_object(
        keys[0], "moved/zero.mp3", if_match=client.head_object(keys[0]).etag
    )
    assert copied.etag == client.head_object("moved/zero.mp3").etag
    client.delete_object("moved/zero.mp3")
    client.delete_object("moved/zero.mp3")  # gone already: no error
    assert client.delete_objects(keys[:5]) == []  # quiet
    assert [o.key for o in client.list_objects()] == ["other/x.mp3"]
    calls = emulator.stats()["oss_calls"]
    assert calls["DeleteMultipleObjects"] == 1 and calls["CopyObject"] == 1


def test_what_the_sdk_puts_our_client_reads_and_the_other_way(
    client: OssClient, emulator: Emulator
) -> None:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("testid", "testsecret")
    cfg.region, cfg.endpoint, cfg.use_path_style = "cn-shanghai", emulator.url, True
    sdk = oss.Client(cfg)
    sdk.put_object(oss.PutObjectRequest(bucket="audio", key="章/a b.mp3", body=b"from the sdk"))
    assert client.head_object("章/a b.mp3").crc64 == crc64(b"from the sdk")
    client.put_object("ours/c+d.mp3", b"from voxform")
    head = sdk.head_object(oss.HeadObjectRequest(bucket="audio", key="ours/c+d.mp3"))
    assert (head.etag, head.hash_crc64) == (
        client.head_object("ours/c+d.mp3").etag,
        str(crc64(b"from voxform")),
    )


def test_conditions_and_missing_objects_are_item_errors(client: OssClient) -> None:
    client.put_object("a.mp3", b"one")
    with pytest.raises(ObjectConflict, match="FileAlreadyExists"):
        client.put_object("a.mp3", b"two", forbid_overwrite=True)
    with pytest.raises(ObjectConflict, match="PreconditionFailed"):
        client.copy_object("a.mp3", "b.mp3", if_match='"0123"')
    for call in (
        lambda: client.head_object("none.mp3"),
        lambda: client.copy_object("none.mp3", "c.mp3"),
    ):
        with pytest.raises(ObjectMissing, match="NoSuchKey") as caught:
            call()
        assert isinstance(caught.value, ItemError) and caught.value.request_id


def test_a_wrong_secret_stops_the_run_naming_the_key_but_not_the_secret(emulator: Emulator) -> None:
    client = client_for(emulator, secret="s3cr3t-wrong")
    for call in (lambda: client.put_object("a.mp3", b"x"), lambda: client.head_object("a.mp3")):
        with pytest.raises(FatalError) as caught:
            call()
        error = caught.value
        assert error.code == "SignatureDoesNotMatch" and error.request_id
        assert "testid" in str(error) and "s3cr3t" not in str(error)


def test_a_corrupted_download_is_refused_and_not_kept(
    start_emulator: StartEmulator, tmp_path: Path
) -> None:
    emulator = start_emulator(synthesis="silence", latency=0, corrupt_reads=1.0)
    client = client_for(emulator)
    client.put_object("a.mp3", b"the audio" * 1000)
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    (pulled / "a.mp3").write_bytes(b"what was there")
    with pytest.raises(DownloadCorrupted) as caught:
        client.get_object("a.mp3", pulled / "a.mp3")
    assert isinstance(caught.value, RetryableError) and caught.value.code == "CrcMismatch"
    assert (pulled / "a.mp3").read_bytes() == b"what was there"
    assert sorted(p.name for p in pulled.iterdir()) == ["a.mp3"]  # no partial file left


def test_injected_failures_and_drops_are_retryable(start_emulator: StartEmulator) -> None:
    for faults in ({"fail_requests": 1.0}, {"drop_connections": 1.0}):
        client = client_for(start_emulator(synthesis="silence", latency=0, **faults))
        with pytest.raises(RetryableError):
            client.head_object("a.mp3")


def test_throttled_operations_are_retryable(start_emulator: StartEmulator) -> None:
    client = client_for(
        start_emulator(synthesis="silence", latency=0, rate_limits={"ListObjectsV2": 1})
    )
    client.list_page()
    with pytest.raises(ThrottledError, match="SlowDown"):  # a RetryableError that slows the pace
        client.list_page()


@pytest.mark.parametrize("key", ["..", "a/../../escape.mp3", "a//b.mp3", "./a.mp3", "link/out.mp3"])
def test_keys_that_would_leave_the_storage_folder_are_refused(
    start_emulator: StartEmulator, key: str
) -> None:
    emulator = start_emulator(synthesis="silence", latency=0)
    outside = emulator.storage.parent / "outside"
    outside.mkdir()
    (emulator.storage / "audio").mkdir(parents=True)
    (emulator.storage / "audio" / "link").symlink_to(outside)
    with pytest.raises(ItemError, match="InvalidObjectName"):
        client_for(emulator).put_object(key, b"x")
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in emulator.storage.parent.iterdir()) == ["oss-0", "outside"]


def test_a_presigned_url_gets_the_object_until_it_expires(client: OssClient) -> None:
    client.put_object("share/take 1.mp3", b"listen")
    url = client.presigned_get_url("share/take 1.mp3", expires=60)
    assert httpx.get(url).content == b"listen"
    assert "testsecret" not in url
    assert httpx.get(url.replace("take%201", "take%202")).status_code == 403
