"""ACS3-HMAC-SHA256: the official SDK's captured requests, tampering, and encoding properties."""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.ice.signing import (
    NonceCache,
    SignatureError,
    authorization,
    canonical_query,
    check_date,
    decode_query,
    percent_encode,
    sha256_hex,
    sign_request,
    verify_request,
)

VECTORS = Path(__file__).parent / "vectors"  # a copy of /work/shared/vectors: CI lacks /work
VECTOR_NAMES = sorted(p.stem for p in VECTORS.glob("*.json"))
SECRETS = {"testid": "testsecret"}
# Headers the HTTP layer adds after signing; the SDK signs every other header it sends.
UNSIGNED = {"authorization", "accept-encoding", "content-length"}
# Headers sign_request sets itself; the rest of the SDK's are passed as extra headers.
OURS = {
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
    "x-acs-security-token",
}
UNRESERVED = set(string.ascii_letters + string.digits + "-_.~")


def load(name: str) -> dict[str, Any]:
    vector: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text("utf-8"))
    return vector


def headers_of(vector: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in vector["headers"]]


def header(vector: dict[str, Any], name: str) -> str:
    return next(v for k, v in vector["headers"] if k.lower() == name)


def query_of(vector: dict[str, Any]) -> str:
    return str(vector["raw_path"]).partition("?")[2]


def verify(vector: dict[str, Any], **changes: Any) -> None:
    """Run the verifier on the vector with some of method/raw_path/headers/body replaced."""
    verify_request(
        changes.get("method", vector["method"]),
        changes.get("raw_path", vector["raw_path"]),
        changes.get("headers", headers_of(vector)),
        changes.get("body", vector["body"].encode("utf-8")),
        SECRETS,
    )


def test_vectors_are_present() -> None:
    assert VECTOR_NAMES == ["get", "sts", "submit", "submit_formbody", "tricky"]


# --- the signer reproduces the SDK -------------------------------------------------------


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_authorization_reproduces_the_sdk_header(name: str) -> None:
    vector = load(name)
    body = vector["body"].encode("utf-8")
    signed = [k.lower() for k, _ in vector["headers"] if k.lower() not in UNSIGNED]
    query = canonical_query(dict(decode_query(query_of(vector))))
    value = authorization(
        method=vector["method"],
        query=query,
        headers=headers_of(vector),
        signed_header_names=signed,
        body_sha256_hex=sha256_hex(body),
        access_key_id="testid",
        secret="testsecret",
    )
    assert value == header(vector, "authorization")


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_sign_request_reproduces_the_sdk_request(name: str) -> None:
    vector = load(name)
    extra = {k.lower(): v for k, v in vector["headers"] if k.lower() not in UNSIGNED | OURS}
    date = datetime.strptime(header(vector, "x-acs-date"), "%Y-%m-%dT%H:%M:%SZ")
    signed = sign_request(
        method=vector["method"],
        host=header(vector, "host"),
        action=header(vector, "x-acs-action"),
        version=header(vector, "x-acs-version"),
        params=dict(decode_query(query_of(vector))),
        body=vector["body"].encode("utf-8"),
        access_key_id="testid",
        access_key_secret="testsecret",
        security_token=dict(headers_of(vector)).get("x-acs-security-token"),
        date=date.replace(tzinfo=UTC),
        nonce=header(vector, "x-acs-signature-nonce"),
        extra_headers=extra,
    )
    assert signed.headers["authorization"] == header(vector, "authorization")
    # The SDK's URL writes spaces as `+`; ours sends the canonical query itself.
    assert signed.path == vector["raw_path"].replace("+", "%20")


def test_sdk_query_is_canonical_except_for_plus_as_space() -> None:
    raw = query_of(load("tricky"))
    assert "+" in raw and "%20" not in raw
    assert canonical_query(dict(decode_query(raw))) == raw.replace("+", "%20")


# --- the verifier accepts the SDK and refuses tampering -------------------------------------


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_verifier_accepts_the_sdk_request(name: str) -> None:
    vector = load(name)
    result = verify_request(
        vector["method"], vector["raw_path"], headers_of(vector), vector["body"].encode(), SECRETS
    )
    assert result.access_key_id == "testid"
    assert result.action == header(vector, "x-acs-action")
    expected = query_of(vector) or vector["body"]
    assert result.params == dict(parse_qsl(expected, keep_blank_values=True))


def test_verifier_reads_the_tricky_input_exactly() -> None:
    vector = load("tricky")
    result = verify_request("POST", vector["raw_path"], headers_of(vector), b"", SECRETS)
    assert result.params["InputConfig"] == (
        '<speak voice="xiaoyun">你好 world*~+&=/?#%!\'()\n<break time="500ms"/>😀</speak>'
    )


def test_verifier_reports_the_sts_token() -> None:
    vector = load("sts")
    result = verify_request("POST", vector["raw_path"], headers_of(vector), b"", SECRETS)
    assert result.security_token == "sts-token-xyz"
    assert "sts-token-xyz" not in repr(result)


def replace_byte(text: str, position: int, new: str) -> str:
    return text[:position] + new + text[position + 1 :]


def meaning_changing_byte(query: str, position: int) -> str:
    """A replacement for query[position] that changes what the query decodes to.

    Some single-byte edits give an equivalent encoding that a correct verifier must accept:
    `%2A` -> `%2a` (hex case) decodes to the same `*`. The candidates here are never hex
    digits or escapes of the original, and the reference decoder (urllib's parse_qsl, not
    ours) confirms each chosen edit changes the decoded parameters.
    """
    before = parse_qsl(query, keep_blank_values=True)
    for candidate in "xZ&":
        if candidate == query[position]:
            continue
        after = replace_byte(query, position, candidate)
        if parse_qsl(after, keep_blank_values=True) != before:
            return candidate
    raise AssertionError(f"no meaning-changing edit at {position}")


def rejections(check: Any, positions: range) -> list[str]:
    """Positions where `check(position)` was NOT refused with SignatureDoesNotMatch."""
    accepted = []
    for position in positions:
        try:
            check(position)
        except SignatureError as error:
            if error.code != "SignatureDoesNotMatch":
                accepted.append(f"{position}: {error.code}")
        else:
            accepted.append(f"{position}: accepted")
    return accepted


# Every byte of every signed part is changed, one at a time, in every vector.
SIGNED_PARTS = [
    (name, part)
    for name in VECTOR_NAMES
    for part in (
        ["method", "query", "body"]
        + [
            f"header:{h}"
            for h in header(load(name), "authorization")
            .split("SignedHeaders=")[1]
            .split(",")[0]
            .split(";")
        ]
    )
    if not (part == "query" and not query_of(load(name)))
    and not (part == "body" and not load(name)["body"])
]


@pytest.mark.parametrize(("name", "part"), SIGNED_PARTS)
def test_every_single_byte_change_to_a_signed_part_is_refused(name: str, part: str) -> None:
    vector = load(name)
    if part == "method":
        method = vector["method"]
        bad = rejections(
            lambda i: verify(vector, method=replace_byte(method, i, "x")), range(len(method))
        )
    elif part == "query":
        query = query_of(vector)

        def change_query(i: int) -> None:
            verify(vector, raw_path="/?" + replace_byte(query, i, meaning_changing_byte(query, i)))

        bad = rejections(change_query, range(len(query)))
    elif part == "body":
        body = vector["body"]
        bad = rejections(
            lambda i: verify(
                vector, body=replace_byte(body, i, "x" if body[i] != "x" else "Z").encode()
            ),
            range(len(body)),
        )
    else:
        wanted = part.removeprefix("header:")
        value = header(vector, wanted)

        def change_header(i: int) -> None:
            new = replace_byte(value, i, "x" if value[i] != "x" else "Z")
            changed = [(k, new if k.lower() == wanted else v) for k, v in headers_of(vector)]
            verify(vector, headers=changed)

        bad = rejections(change_header, range(len(value)))
    assert bad == []


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_renaming_a_signed_header_is_refused(name: str) -> None:
    vector = load(name)
    for position, (key, _) in enumerate(vector["headers"]):
        if key.lower() in UNSIGNED:
            continue
        renamed = list(headers_of(vector))
        renamed[position] = (
            "x" + key[1:] if key[0] != "x" else "z" + key[1:],
            renamed[position][1],
        )
        with pytest.raises(SignatureError):
            verify(vector, headers=renamed)


@pytest.mark.parametrize(
    ("before", "after"),
    [("+", "%20"), ("%2A", "%2a"), ("~", "%7E"), ("%E4%BD%A0", "%e4%bd%a0")],
)
def test_equivalent_query_encodings_are_accepted(before: str, after: str) -> None:
    vector = load("tricky")
    assert before in vector["raw_path"]
    verify(vector, raw_path=vector["raw_path"].replace(before, after))


def authorization_with(vector: dict[str, Any], value: str) -> list[tuple[str, str]]:
    return [(k, value if k == "Authorization" else v) for k, v in headers_of(vector)]


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (
            lambda a: a.replace("Credential=testid", "Credential=nobody"),
            "InvalidAccessKeyId.NotFound",
        ),
        (lambda a: a[:-1] + ("0" if a[-1] != "0" else "1"), "SignatureDoesNotMatch"),
        (lambda a: a.replace("Signature=", "Signature=00"), "SignatureDoesNotMatch"),
        (lambda a: a.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3"), "IncompleteSignature"),
        (lambda a: a.replace(";x-acs-date", ""), "IncompleteSignature"),
        (lambda a: a.replace("accept;host", "host;accept"), "IncompleteSignature"),
        (
            lambda a: a.replace("SignedHeaders=accept", "SignedHeaders=Accept"),
            "IncompleteSignature",
        ),
        (lambda a: a.split(",Signature=")[0], "IncompleteSignature"),
        (lambda a: "", "IncompleteSignature"),
    ],
)
def test_malformed_authorization_gets_the_service_code(edit: Any, code: str) -> None:
    vector = load("submit")
    changed = authorization_with(vector, edit(header(vector, "authorization")))
    with pytest.raises(SignatureError) as caught:
        verify(vector, headers=changed)
    assert caught.value.code == code


def test_missing_authorization_is_reported() -> None:
    vector = load("submit")
    without = [(k, v) for k, v in headers_of(vector) if k != "Authorization"]
    with pytest.raises(SignatureError) as caught:
        verify(vector, headers=without)
    assert caught.value.code == "MissingAuthorization"


def test_dropping_a_signed_header_is_refused() -> None:
    vector = load("submit")
    without = [(k, v) for k, v in headers_of(vector) if k != "user-agent"]
    with pytest.raises(SignatureError) as caught:
        verify(vector, headers=without)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_an_unsigned_security_token_is_refused() -> None:
    vector = load("submit")
    with pytest.raises(SignatureError) as caught:
        verify(vector, headers=[*headers_of(vector), ("x-acs-security-token", "stolen")])
    assert caught.value.code == "IncompleteSignature"


def test_a_repeated_query_parameter_is_refused() -> None:
    vector = load("submit")
    with pytest.raises(SignatureError) as caught:
        verify(vector, raw_path=vector["raw_path"] + "&Title=t")
    assert caught.value.code == "SignatureDoesNotMatch"


def test_a_body_that_does_not_match_its_hash_is_refused() -> None:
    vector = load("submit")
    with pytest.raises(SignatureError) as caught:
        verify(vector, body=b"Title=evil")
    assert caught.value.code in {"SignatureDoesNotMatch", "IncompleteSignature"}
    formbody = load("submit_formbody")
    with pytest.raises(SignatureError) as caught:
        verify(formbody, body=formbody["body"].encode() + b"&Extra=1")
    assert caught.value.code == "SignatureDoesNotMatch"


# --- round trips through our own signer -----------------------------------------------------

PARAMS = {"JobId": "job 1*~", "InputConfig": "<speak>你好 😀 a+b&c=d</speak>"}


def signed(**overrides: Any) -> Any:
    arguments: dict[str, Any] = {
        "method": "POST",
        "host": "ice.cn-shanghai.aliyuncs.com",
        "action": "GetSmartHandleJob",
        "version": "2020-11-09",
        "params": PARAMS,
        "body": b"",
        "access_key_id": "testid",
        "access_key_secret": "testsecret",
        "security_token": None,
    }
    arguments.update(overrides)
    return sign_request(**arguments)


def test_sign_then_verify_round_trips() -> None:
    request = signed()
    result = verify_request("POST", request.path, request.headers, b"", SECRETS)
    assert result.params == PARAMS
    assert result.action == "GetSmartHandleJob"
    assert set(result.signed_headers) == set(request.headers) - {"authorization"}


def test_a_wrong_secret_does_not_match() -> None:
    request = signed(access_key_secret="not-the-secret")
    with pytest.raises(SignatureError) as caught:
        verify_request("POST", request.path, request.headers, b"", SECRETS)
    assert caught.value.code == "SignatureDoesNotMatch"


def test_an_unknown_key_id_is_not_found() -> None:
    request = signed(access_key_id="someone-else")
    with pytest.raises(SignatureError) as caught:
        verify_request("POST", request.path, request.headers, b"", SECRETS)
    assert caught.value.code == "InvalidAccessKeyId.NotFound"


def test_an_sts_token_is_sent_signed_and_hidden_from_repr() -> None:
    request = signed(security_token="sts-secret-token")
    assert "x-acs-security-token" in request.headers["authorization"]
    assert "sts-secret-token" not in repr(request)
    result = verify_request("POST", request.path, request.headers, b"", SECRETS)
    assert result.security_token == "sts-secret-token"


def test_a_form_body_is_signed_and_its_params_read() -> None:
    body = b"Title=a+b&InputConfig=%E4%BD%A0"
    request = signed(params={}, body=body)
    assert request.path == "/"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    result = verify_request("POST", request.path, request.headers, body, SECRETS)
    assert result.params == {"Title": "a b", "InputConfig": "你"}


def test_each_signature_gets_a_fresh_nonce() -> None:
    nonces = {signed().headers["x-acs-signature-nonce"] for _ in range(20)}
    assert len(nonces) == 20


def test_the_date_is_sent_in_utc() -> None:
    shanghai = datetime(2024, 1, 31, 20, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    assert signed(date=shanghai).headers["x-acs-date"] == "2024-01-31T12:00:00Z"


# --- clock and replay checks -----------------------------------------------------------------

NOW = datetime(2024, 1, 31, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(minutes=15), timedelta(minutes=-15)])
def test_a_date_within_fifteen_minutes_is_fresh(offset: timedelta) -> None:
    check_date((NOW + offset).strftime("%Y-%m-%dT%H:%M:%SZ"), NOW)


@pytest.mark.parametrize("offset", [timedelta(minutes=15, seconds=1), timedelta(hours=-3)])
def test_a_date_beyond_fifteen_minutes_is_expired(offset: timedelta) -> None:
    with pytest.raises(SignatureError) as caught:
        check_date((NOW + offset).strftime("%Y-%m-%dT%H:%M:%SZ"), NOW)
    assert caught.value.code == "InvalidTimeStamp.Expired"


def test_a_malformed_date_is_reported() -> None:
    with pytest.raises(SignatureError) as caught:
        check_date("Wed, 31 Jan 2024 12:00:00 GMT", NOW)
    assert caught.value.code == "InvalidTimeStamp.Format"


def test_the_verifier_checks_the_clock_when_given_now() -> None:
    vector = load("get")
    with pytest.raises(SignatureError) as caught:
        verify_request("POST", vector["raw_path"], headers_of(vector), b"", SECRETS, now=NOW)
    assert caught.value.code == "InvalidTimeStamp.Expired"
    sent = datetime(2026, 11, 24, 19, 22, 38, tzinfo=UTC)
    verify_request("POST", vector["raw_path"], headers_of(vector), b"", SECRETS, now=sent)


def test_a_replayed_nonce_is_refused() -> None:
    cache = NonceCache()
    request = signed(date=NOW)
    verify_request("POST", request.path, request.headers, b"", SECRETS, now=NOW, nonces=cache)
    with pytest.raises(SignatureError) as caught:
        verify_request("POST", request.path, request.headers, b"", SECRETS, now=NOW, nonces=cache)
    assert caught.value.code == "SignatureNonceUsed"


def test_a_forged_request_does_not_use_up_a_nonce() -> None:
    cache = NonceCache()
    forged = signed(date=NOW, access_key_secret="wrong", nonce="n1")
    with pytest.raises(SignatureError):
        verify_request("POST", forged.path, forged.headers, b"", SECRETS, now=NOW, nonces=cache)
    genuine = signed(date=NOW, nonce="n1")
    verify_request("POST", genuine.path, genuine.headers, b"", SECRETS, now=NOW, nonces=cache)


def test_the_nonce_cache_forgets_after_its_time_to_live() -> None:
    cache = NonceCache(ttl=timedelta(minutes=30))
    assert cache.add("testid\nabc", NOW)
    assert not cache.add("testid\nabc", NOW + timedelta(minutes=29))
    assert cache.add("testid\nabc", NOW + timedelta(minutes=31))


# --- encoding properties ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        (" ", "%20"),
        ("*", "%2A"),
        ("~-_.", "~-_."),
        ("+", "%2B"),
        ("/?#&=", "%2F%3F%23%26%3D"),
        ("你", "%E4%BD%A0"),
        ("😀", "%F0%9F%98%80"),
        ("", ""),
    ],
)
def test_percent_encode_examples(text: str, encoded: str) -> None:
    assert percent_encode(text) == encoded


@given(st.text())
def test_percent_encode_round_trips(text: str) -> None:
    assert unquote(percent_encode(text), errors="strict") == text


@given(st.text())
def test_percent_encode_leaves_only_unreserved_characters_bare(text: str) -> None:
    encoded = percent_encode(text)
    assert re.fullmatch(r"(?:[A-Za-z0-9\-_.~]|%[0-9A-F]{2})*", encoded)
    bare = [c for c in text if c in UNRESERVED]
    assert "".join(c for c in re.sub(r"%[0-9A-F]{2}", "", encoded)) == "".join(bare)


@given(st.dictionaries(st.text(min_size=1), st.text()))
def test_canonical_query_decodes_back_to_its_params(params: dict[str, str]) -> None:
    # Names are sorted before encoding, as the SDK does (not by their encoded form).
    query = canonical_query(params)
    assert dict(decode_query(query)) == params
    assert [name for name, _ in decode_query(query)] == sorted(params)


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=40), max_size=5))
def test_anything_we_sign_verifies(params: dict[str, str]) -> None:
    request = signed(params=params)
    assert verify_request("POST", request.path, request.headers, b"", SECRETS).params == params
