"""The official OSS SDK (alibabacloud-oss-v2), unchanged, against `voxform emulator`:
path-style, V4, testid:testsecret. What it can do with a real bucket it can do here."""

from __future__ import annotations

from collections.abc import Callable

import alibabacloud_oss_v2 as oss
import httpx
import pytest

from emulator.conftest import StartEmulator
from voxform.emulator.service import Emulator
from voxform.oss.crc64 import crc64
from voxform.oss.documents import parse_error

Client = Callable[..., oss.Client]


def sdk_client(emulator: Emulator, secret: str = "testsecret") -> oss.Client:
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("testid", secret)
    cfg.region = "cn-shanghai"
    cfg.endpoint = emulator.url
    cfg.use_path_style = True
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


@pytest.fixture
def emulator(start_emulator: StartEmulator) -> Emulator:
    return start_emulator(synthesis="silence", latency=0)


def put(client: oss.Client, key: str, body: bytes, **options: object) -> oss.PutObjectResult:
    return client.put_object(oss.PutObjectRequest(bucket="audio", key=key, body=body, **options))


def test_the_sdk_puts_heads_gets_and_lists_objects(emulator: Emulator) -> None:
    client = sdk_client(emulator)
    keys = ["course/one.mp3", "course/two words+plus.mp3", "course/章节 %7E.mp3", "other.mp3"]
    for number, key in enumerate(keys):
        put(client, key, f"audio {number}".encode())
    assert (emulator.storage / "audio" / "course" / "one.mp3").read_bytes() == b"audio 0"

    head = client.head_object(oss.HeadObjectRequest(bucket="audio", key=keys[2]))
    assert head.content_length == len(b"audio 2")
    assert head.hash_crc64 == str(crc64(b"audio 2"))
    assert head.etag.startswith('"') and head.etag.endswith('"')
    got = client.get_object(oss.GetObjectRequest(bucket="audio", key=keys[1]))
    assert got.body.content == b"audio 1"

    listed = client.list_objects_v2(oss.ListObjectsV2Request(bucket="audio", prefix="course/"))
    assert [o.key for o in listed.contents] == sorted(keys[:3], key=str.encode)
    assert [o.size for o in listed.contents] == [7, 7, 7]
    paged = oss.ListObjectsV2Paginator(client, limit=1)
    pages = list(paged.iter_page(oss.ListObjectsV2Request(bucket="audio", prefix="")))
    assert [o.key for page in pages for o in page.contents] == sorted(keys, key=str.encode)
    assert len(pages) == 4


def test_the_sdk_reads_the_objects_ice_jobs_write(emulator: Emulator) -> None:
    (emulator.storage / "audio" / "book").mkdir(parents=True)
    (emulator.storage / "audio" / "book" / "intro.mp3").write_bytes(b"\xff\xfbsynthesized")
    got = sdk_client(emulator).get_object(
        oss.GetObjectRequest(bucket="audio", key="book/intro.mp3")
    )
    assert got.body.content == b"\xff\xfbsynthesized"
    assert got.content_type == "audio/mpeg"


def test_a_forbidden_overwrite_is_409_file_already_exists(emulator: Emulator) -> None:
    client = sdk_client(emulator)
    put(client, "a.mp3", b"first")
    with pytest.raises(oss.exceptions.OperationError) as caught:
        put(client, "a.mp3", b"second", forbid_overwrite=True)
    error = caught.value.unwrap()
    assert (error.status_code, error.code) == (409, "FileAlreadyExists")
    assert (emulator.storage / "audio" / "a.mp3").read_bytes() == b"first"
    put(client, "a.mp3", b"second")  # allowed when not forbidden
    assert (emulator.storage / "audio" / "a.mp3").read_bytes() == b"second"


def test_the_sdk_copies_only_while_the_source_matches(emulator: Emulator) -> None:
    client = sdk_client(emulator)
    etag = put(client, "src.mp3", b"take one").etag
    copied = client.copy_object(
        oss.CopyObjectRequest(
            bucket="audio", key="dst/copy.mp3", source_key="src.mp3", if_match=etag
        )
    )
    assert copied.etag == etag
    assert (emulator.storage / "audio" / "dst" / "copy.mp3").read_bytes() == b"take one"
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.copy_object(
            oss.CopyObjectRequest(
                bucket="audio", key="dst/two.mp3", source_key="src.mp3", if_match='"0000"'
            )
        )
    assert caught.value.unwrap().status_code == 412
    assert not (emulator.storage / "audio" / "dst" / "two.mp3").exists()


def test_the_sdk_deletes_one_object_and_many(emulator: Emulator) -> None:
    client = sdk_client(emulator)
    for key in ("x/1.mp3", "x/2.mp3", "x/3 +.mp3", "keep.mp3"):
        put(client, key, b"data")
    assert (
        client.delete_object(oss.DeleteObjectRequest(bucket="audio", key="x/1.mp3")).status_code
        == 204
    )
    assert (
        client.delete_object(oss.DeleteObjectRequest(bucket="audio", key="x/none")).status_code
        == 204
    )
    result = client.delete_multiple_objects(
        oss.DeleteMultipleObjectsRequest(
            bucket="audio",
            objects=[oss.DeleteObject(key="x/2.mp3"), oss.DeleteObject(key="x/3 +.mp3")],
        )
    )
    assert sorted(o.key for o in result.deleted_objects) == ["x/2.mp3", "x/3 +.mp3"]
    listed = client.list_objects_v2(oss.ListObjectsV2Request(bucket="audio"))
    assert [o.key for o in listed.contents] == ["keep.mp3"]
    assert emulator.stats()["oss_calls"]["DeleteMultipleObjects"] == 1


def test_a_wrong_secret_is_403_signature_does_not_match_in_oss_xml(emulator: Emulator) -> None:
    with pytest.raises(oss.exceptions.OperationError) as caught:
        put(sdk_client(emulator, secret="wrong"), "a.mp3", b"x")
    error = caught.value.unwrap()
    assert (error.status_code, error.code) == (403, "SignatureDoesNotMatch")
    assert error.request_id
    # the raw answer: OSS's XML with the request id in a header as well
    answer = httpx.put(
        f"{emulator.url}/audio/a.mp3",
        content=b"x",
        headers={
            "authorization": "OSS4-HMAC-SHA256 Credential=testid/20240101/cn-shanghai/oss/"
            "aliyun_v4_request,Signature=00"
        },
    )
    document = parse_error(answer.content)
    assert answer.status_code == 403 and document is not None
    assert document.request_id == answer.headers["x-oss-request-id"]
    assert not (emulator.storage / "audio" / "a.mp3").exists()


def test_a_missing_object_is_404_no_such_key_also_for_a_head(emulator: Emulator) -> None:
    client = sdk_client(emulator)
    for call in (
        lambda: client.get_object(oss.GetObjectRequest(bucket="audio", key="none.mp3")),
        lambda: client.head_object(oss.HeadObjectRequest(bucket="audio", key="none.mp3")),
    ):
        with pytest.raises(oss.exceptions.OperationError) as caught:
            call()
        assert (caught.value.unwrap().status_code, caught.value.unwrap().code) == (404, "NoSuchKey")


def test_a_presigned_url_from_the_sdk_gets_the_object_until_it_expires(emulator: Emulator) -> None:
    client = sdk_client(emulator)
    put(client, "share me.mp3", b"listen")
    signed = client.presign(oss.GetObjectRequest(bucket="audio", key="share me.mp3"))
    assert httpx.get(signed.url).content == b"listen"
    tampered = signed.url.replace("share%20me", "other")
    assert httpx.get(tampered).status_code == 403


@pytest.mark.parametrize(
    "key", ["../escape.mp3", "a/../../escape.mp3", "a//b.mp3", "./a.mp3", "link/out.mp3"]
)
def test_keys_stay_inside_the_storage_folder(start_emulator: StartEmulator, key: str) -> None:
    emulator = start_emulator(synthesis="silence", latency=0)
    outside = emulator.storage.parent / "outside"
    outside.mkdir()
    (emulator.storage / "audio").mkdir(parents=True)
    (emulator.storage / "audio" / "link").symlink_to(outside)
    with pytest.raises(oss.exceptions.OperationError) as caught:
        put(sdk_client(emulator), key, b"x")
    assert 400 <= caught.value.unwrap().status_code < 500  # (a URL library may fold `..`)
    assert list(outside.iterdir()) == []
    assert not (emulator.storage / "escape.mp3").exists()
    assert not (emulator.storage.parent / "escape.mp3").exists()


def test_oss_operations_have_their_own_rate_limits(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(synthesis="silence", latency=0, rate_limits={"HeadObject": 1})
    client = sdk_client(emulator)
    put(client, "a.mp3", b"x")
    client.head_object(oss.HeadObjectRequest(bucket="audio", key="a.mp3"))
    with pytest.raises(oss.exceptions.OperationError) as caught:
        client.head_object(oss.HeadObjectRequest(bucket="audio", key="a.mp3"))
    assert caught.value.unwrap().status_code == 503
    put(client, "b.mp3", b"x")  # another operation, another bucket of tokens
    stats = emulator.stats()
    assert stats["oss_calls"]["HeadObject"] == 2
    assert stats["oss_throttled"] == {**dict.fromkeys(stats["oss_throttled"], 0), "HeadObject": 1}


def test_a_corrupted_read_changes_one_byte_and_no_header(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(synthesis="silence", latency=0, corrupt_reads=1.0)
    client = sdk_client(emulator)
    put(client, "a.mp3", b"the true bytes")
    got = client.get_object(oss.GetObjectRequest(bucket="audio", key="a.mp3"))
    body = got.body.content
    assert len(body) == got.content_length == len(b"the true bytes")
    assert sum(a != b for a, b in zip(body, b"the true bytes", strict=True)) == 1
    assert got.hash_crc64 == str(crc64(b"the true bytes")) != str(crc64(body))
    head = client.head_object(oss.HeadObjectRequest(bucket="audio", key="a.mp3"))
    assert head.hash_crc64 == str(crc64(b"the true bytes"))


def test_injected_failures_are_oss_503s(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(synthesis="silence", latency=0, fail_requests=1.0)
    with pytest.raises(oss.exceptions.OperationError) as caught:
        put(sdk_client(emulator), "a.mp3", b"x")
    assert caught.value.unwrap().status_code == 503
    assert not (emulator.storage / "audio" / "a.mp3").exists()
