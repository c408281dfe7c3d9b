"""The client's Signer: exactly sign_request's request, its constant parts made once."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.ice.signer import Signer
from voxform.ice.signing import decode_query, sign_request, verify_request

VECTORS = Path(__file__).parent / "vectors"
SECRETS = {"testid": "testsecret"}
HOST = "ice.cn-shanghai.aliyuncs.com"
EXTRA = {"Accept": "application/json", "user-agent": "voxform/test"}


def both(
    params: dict[str, str],
    *,
    method: str = "POST",
    action: str = "SubmitAudioProduceJob",
    token: str | None = None,
    extra: dict[str, str] | None = None,
    now: float = 1_796_694_567.25,
    nonce: str = "0123456789abcdef0123456789abcdef",
) -> tuple[Any, Any]:
    """(sign_request's request, the Signer's) for the same call, date and nonce."""
    extra = EXTRA if extra is None else extra
    reference = sign_request(
        method=method,
        host=HOST,
        action=action,
        version="2020-11-09",
        params=params,
        body=b"",
        access_key_id="testid",
        access_key_secret="testsecret",
        security_token=token,
        date=datetime.fromtimestamp(now, UTC),
        nonce=nonce,
        extra_headers=extra,
    )
    signer = Signer(
        host=HOST,
        version="2020-11-09",
        access_key_id="testid",
        access_key_secret="testsecret",
        security_token=token,
        extra_headers=extra,
    )
    return reference, signer.sign(method, action, params, now=now, nonce=nonce)


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=60), max_size=6),
    st.sampled_from(["POST", "GET", "post"]),
    st.sampled_from([None, "sts-token-value"]),
)
def test_the_signer_makes_sign_requests_request(
    params: dict[str, str], method: str, token: str | None
) -> None:
    reference, fast = both(params, method=method, token=token)
    assert fast.path == reference.path
    assert list(fast.headers.items()) == list(reference.headers.items())  # order too: the wire


def test_an_extra_header_named_like_its_own_is_replaced_in_place() -> None:
    extra = {"X-Acs-Date": "stale", "accept": " padded "}
    reference, fast = both({"JobId": "j"}, extra=extra)
    assert list(fast.headers.items()) == list(reference.headers.items())
    assert fast.headers["x-acs-date"] != "stale"


@pytest.mark.parametrize("now", [1_796_694_567.0, 1_796_694_567.999, 1_796_694_568.0])
def test_the_date_is_the_second_of_now(now: float) -> None:
    signer = Signer(host=HOST, version="v", access_key_id="testid", **_key())
    for at in (now - 1.0, now):  # the date spelt for the second before is not kept
        request = signer.sign("POST", "GetSmartHandleJob", {}, now=at)
        expected = datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert request.headers["x-acs-date"] == expected


def test_each_request_has_a_new_nonce_and_verifies() -> None:
    signer = Signer(host=HOST, version="v", access_key_id="testid", **_key())
    first = signer.sign("POST", "GetSmartHandleJob", {"JobId": "a b"})
    second = signer.sign("POST", "GetSmartHandleJob", {"JobId": "a b"})
    assert first.headers["x-acs-signature-nonce"] != second.headers["x-acs-signature-nonce"]
    verified = verify_request("POST", first.path, first.headers, b"", SECRETS)
    assert verified.params == {"JobId": "a b"}


def test_the_signer_reproduces_the_sdk_request() -> None:
    vector = json.loads((VECTORS / "get.json").read_text("utf-8"))
    headers = {k.lower(): v for k, v in vector["headers"]}
    query = vector["raw_path"].partition("?")[2]
    own = {"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"}
    unsigned = {"authorization", "accept-encoding", "content-length", "x-acs-content-sha256"}
    signer = Signer(
        host=headers["host"],
        version=headers["x-acs-version"],
        access_key_id="testid",
        access_key_secret="testsecret",
        security_token=headers.get("x-acs-security-token"),
        extra_headers={
            k: v for k, v in headers.items() if k not in own | unsigned | {"x-acs-security-token"}
        },
    )
    date = datetime.strptime(headers["x-acs-date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    request = signer.sign(
        vector["method"],
        headers["x-acs-action"],
        dict(decode_query(query)),
        now=date.timestamp(),
        nonce=headers["x-acs-signature-nonce"],
    )
    assert request.headers["authorization"] == headers["authorization"]


def _key() -> dict[str, Any]:
    return {"access_key_secret": "testsecret", "security_token": None}


def test_nonces_are_unique_within_and_across_signers() -> None:
    signers = [Signer(host=HOST, version="v", access_key_id="testid", **_key()) for _ in range(2)]
    nonces = [
        s.sign("POST", "GetSmartHandleJob", {}).headers["x-acs-signature-nonce"]
        for s in signers
        for _ in range(500)
    ]
    assert len(set(nonces)) == len(nonces)
    assert all(len(n) == 32 and int(n, 16) >= 0 for n in nonces)
