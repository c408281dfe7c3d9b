"""voxform's OSS V4 signatures equal the official SDK signer's for the same request and clock,
and the verifier the emulator uses accepts them and refuses what was changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from alibabacloud_oss_v2.credentials import StaticCredentialsProvider
from alibabacloud_oss_v2.signer.v4 import SignerV4
from alibabacloud_oss_v2.types import HttpRequest, SigningContext
from hypothesis import given, settings
from hypothesis import strategies as st

from voxform.oss.signing import (
    OssSignatureError,
    Signer,
    decode_query,
    presign,
    query_string,
    sign_headers,
)
from voxform.oss.verify import Request, verify

NOW = datetime(2024, 5, 17, 8, 30, 12, tzinfo=UTC)
SIGNER = Signer("testid", "testsecret", None, "cn-shanghai")
SECRETS = {"testid": "testsecret"}


def sdk_sign(
    method: str,
    bucket: str | None,
    key: str | None,
    params: dict[str, str],
    headers: dict[str, str],
    *,
    token: str | None = None,
    presign_until: datetime | None = None,
) -> HttpRequest:
    """The request as the SDK's V4 signer leaves it (URL built as its client builds it)."""
    path = f"/{bucket}/" if bucket is not None else "/"
    url = "http://127.0.0.1" + path + (quote(key) if key is not None else "")
    if params:
        url += "?" + urlencode(params, quote_via=quote)
    request = HttpRequest(method=method, url=url)
    request.headers.update(headers)
    cred = StaticCredentialsProvider("testid", "testsecret", token).get_credentials()
    context = SigningContext(
        product="oss",
        region="cn-shanghai",
        bucket=bucket,
        key=key,
        request=request,
        credentials=cred,
        signing_time=NOW,
    )
    if presign_until is not None:
        context.auth_method_query = True
        context.expiration_time = presign_until
    SignerV4().sign(context)
    return request


@pytest.mark.parametrize(
    ("method", "bucket", "key", "params", "headers"),
    [
        ("GET", "audio", "course/intro.mp3", {}, {}),
        ("HEAD", "audio", "a b+c%d~e.mp3", {}, {}),
        (
            "PUT",
            "audio",
            "x.mp3",
            {},
            {"Content-Type": "audio/mpeg", "x-oss-forbid-overwrite": "true"},
        ),
        ("GET", "audio", None, {"list-type": "2", "prefix": "c/", "encoding-type": "url"}, {}),
        ("POST", "audio", None, {"delete": "", "encoding-type": "url"}, {"Content-MD5": "abc=="}),
        ("PUT", "b-2", "章节/一.mp3", {}, {"x-oss-copy-source": "/audio/%E4%B8%80.mp3"}),
    ],
)
def test_header_signature_equals_the_sdk_signers(
    method: str, bucket: str, key: str | None, params: dict[str, str], headers: dict[str, str]
) -> None:
    theirs = sdk_sign(method, bucket, key, params, headers)
    ours = sign_headers(
        SIGNER, method=method, bucket=bucket, key=key, params=params, headers=headers, now=NOW
    )
    assert ours["authorization"] == theirs.headers["Authorization"]
    assert ours["x-oss-date"] == theirs.headers["x-oss-date"]


def test_a_security_token_is_sent_and_signed_as_the_sdk_does() -> None:
    signer = Signer("testid", "testsecret", "sts-token/+=", "cn-shanghai")
    theirs = sdk_sign("GET", "audio", "k.mp3", {}, {}, token="sts-token/+=")
    ours = sign_headers(
        signer, method="GET", bucket="audio", key="k.mp3", params={}, headers={}, now=NOW
    )
    assert ours["x-oss-security-token"] == "sts-token/+="
    assert ours["authorization"] == theirs.headers["Authorization"]


def test_a_presigned_url_equals_the_sdk_signers() -> None:
    theirs = sdk_sign(
        "GET", "audio", "course/a b.mp3", {}, {}, presign_until=NOW + timedelta(hours=1)
    )
    ours = presign(
        SIGNER, method="GET", bucket="audio", key="course/a b.mp3", params={}, now=NOW, expires=3600
    )
    assert parse_qsl(ours) == parse_qsl(urlsplit(theirs.url).query)
    assert ours.endswith("&x-oss-signature=" + dict(parse_qsl(ours))["x-oss-signature"])


KEYS = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=40,
).filter(lambda k: not k.startswith(("/", "\\")))
PARAMS = st.dictionaries(
    st.text(st.sampled_from("abc-_~+% /é"), min_size=1, max_size=6),
    st.text(st.sampled_from("xyz +%~/=&é"), max_size=6),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(key=KEYS, params=PARAMS)
def test_any_key_and_query_sign_as_the_sdk_signs_them(key: str, params: dict[str, str]) -> None:
    theirs = sdk_sign("GET", "audio", key, params, {"x-oss-meta-note": "a b"})
    ours = sign_headers(
        SIGNER,
        method="GET",
        bucket="audio",
        key=key,
        params=params,
        headers={"x-oss-meta-note": "a b"},
        now=NOW,
    )
    assert ours["authorization"] == theirs.headers["Authorization"]
    # and the verifier accepts it from the query as sent
    sent = decode_query(query_string(params))
    verify(Request("GET", "audio", key, sent, ours), SECRETS, NOW)


@settings(max_examples=100, deadline=None)
@given(key=KEYS, params=PARAMS)
def test_any_presigned_url_is_the_sdks_and_verifies(key: str, params: dict[str, str]) -> None:
    params = {k: v for k, v in params.items() if not k.startswith("x-oss-")}
    theirs = sdk_sign("GET", "audio", key, params, {}, presign_until=NOW + timedelta(seconds=600))
    ours = presign(
        SIGNER, method="GET", bucket="audio", key=key, params=params, now=NOW, expires=600
    )
    assert sorted(parse_qsl(ours, keep_blank_values=True)) == sorted(
        parse_qsl(urlsplit(theirs.url).query, keep_blank_values=True)
    )
    verify(
        Request("GET", "audio", key, decode_query(ours), {}), SECRETS, NOW + timedelta(seconds=599)
    )


def _signed(**changes: object) -> Request:
    headers = sign_headers(
        SIGNER,
        method="PUT",
        bucket="audio",
        key="k.mp3",
        params={},
        headers={"x-oss-forbid-overwrite": "true", "content-type": "audio/mpeg"},
        now=NOW,
    )
    request = Request("PUT", "audio", "k.mp3", [], headers)
    return Request(**{**request.__dict__, **changes})  # type: ignore[arg-type]


def test_the_verifier_accepts_a_signed_request_within_fifteen_minutes() -> None:
    assert verify(_signed(), SECRETS, NOW + timedelta(minutes=14)).access_key_id == "testid"


@pytest.mark.parametrize(
    ("change", "secrets", "at", "code"),
    [
        ({}, {"testid": "wrong"}, NOW, "SignatureDoesNotMatch"),
        ({}, {"other": "testsecret"}, NOW, "InvalidAccessKeyId"),
        ({}, SECRETS, NOW + timedelta(minutes=16), "RequestTimeTooSkewed"),
        ({}, SECRETS, NOW - timedelta(minutes=16), "RequestTimeTooSkewed"),
        ({"key": "other.mp3"}, SECRETS, NOW, "SignatureDoesNotMatch"),
        ({"method": "DELETE"}, SECRETS, NOW, "SignatureDoesNotMatch"),
        ({"params": [("acl", "")]}, SECRETS, NOW, "SignatureDoesNotMatch"),
    ],
)
def test_the_verifier_refuses_what_does_not_match(
    change: dict[str, object], secrets: dict[str, str], at: datetime, code: str
) -> None:
    with pytest.raises(OssSignatureError) as caught:
        verify(_signed(**change), secrets, at)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "header", ["x-oss-forbid-overwrite", "content-type", "x-oss-date", "x-oss-meta-added"]
)
def test_a_tampered_or_added_signed_header_is_refused(header: str) -> None:
    request = _signed()
    headers = {**request.headers, header: "20240517T083013Z" if header == "x-oss-date" else "x"}
    with pytest.raises(OssSignatureError) as caught:
        verify(Request(**{**request.__dict__, "headers": headers}), SECRETS, NOW)  # type: ignore[arg-type]
    assert caught.value.code == "SignatureDoesNotMatch"


def test_an_expired_or_tampered_presigned_url_is_refused() -> None:
    query = presign(
        SIGNER, method="GET", bucket="audio", key="k.mp3", params={}, now=NOW, expires=60
    )
    good = decode_query(query)
    verify(Request("GET", "audio", "k.mp3", good, {}), SECRETS, NOW + timedelta(seconds=60))
    with pytest.raises(OssSignatureError, match="expired"):
        verify(Request("GET", "audio", "k.mp3", good, {}), SECRETS, NOW + timedelta(seconds=61))
    for tampered in (
        Request("GET", "audio", "other.mp3", good, {}),
        Request(
            "GET",
            "audio",
            "k.mp3",
            [(n, "120" if n == "x-oss-expires" else v) for n, v in good],
            {},
        ),
    ):
        with pytest.raises(OssSignatureError) as caught:
            verify(tampered, SECRETS, NOW)
        assert caught.value.code == "SignatureDoesNotMatch"
