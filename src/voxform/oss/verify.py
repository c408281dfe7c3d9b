"""Checking an OSS V4 signature, in the Authorization header or a presigned URL's query.

The emulator's side of `oss/signing.py`: it recomputes the signature with the same
functions, so what voxform signs and what the emulator accepts cannot drift apart, and the
official SDK's signatures are accepted because the signer matches the SDK's (tests prove
it). Every refusal is a 403 as OSS answers it: AccessDenied, InvalidAccessKeyId,
SignatureDoesNotMatch or RequestTimeTooSkewed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from voxform.oss.signing import (
    ALGORITHM,
    DATE_FORMAT,
    MAX_CLOCK_SKEW,
    MAX_EXPIRES,
    PRODUCT,
    Q_ADDITIONAL,
    Q_CREDENTIAL,
    Q_DATE,
    Q_EXPIRES,
    Q_SIGNATURE,
    Q_VERSION,
    TERMINATOR,
    UNSIGNED_PAYLOAD,
    OssSignatureError,
    canonical_query,
    canonical_request,
    canonical_uri,
    signature,
)


@dataclass(frozen=True)
class Verified:
    """A request whose signature checked out: who signed it, and whether in a URL."""

    access_key_id: str
    presigned: bool


@dataclass(frozen=True)
class Request:
    """What the checks read of one request: bucket and key decoded from the path, the query
    as decoded pairs, headers with lower-case names, and the body."""

    method: str
    bucket: str | None
    key: str | None
    params: Sequence[tuple[str, str]]
    headers: Mapping[str, str]
    body: bytes = b""


def is_presigned(params: Sequence[tuple[str, str]]) -> bool:
    """Whether the request carries its signature in the query."""
    return any(name == Q_SIGNATURE for name, _ in params)


def verify(request: Request, secrets: Mapping[str, str], now: datetime) -> Verified:
    """Check the request's signature against `secrets` (key id -> secret) at time `now`."""
    if is_presigned(request.params):
        return _verify_query(request, secrets, now)
    if "authorization" not in request.headers:
        raise OssSignatureError("AccessDenied", "Anonymous access is forbidden for this operation.")
    return _verify_header(request, secrets, now)


def _verify_header(request: Request, secrets: Mapping[str, str], now: datetime) -> Verified:
    algorithm, _, rest = request.headers["authorization"].strip().partition(" ")
    if algorithm != ALGORITHM:
        raise OssSignatureError("AccessDenied", f"The authorization must be {ALGORITHM}.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if (
            not sep
            or name in fields
            or name not in ("Credential", "AdditionalHeaders", "Signature")
        ):
            raise OssSignatureError("AccessDenied", "The Authorization header is malformed.")
        fields[name] = value
    if "Credential" not in fields or "Signature" not in fields:
        raise OssSignatureError("AccessDenied", "The Authorization header is malformed.")
    key_id, region = _credential(fields["Credential"], secrets)
    when = request.headers.get("x-oss-date", "")
    _check_scope(fields["Credential"], when)
    _check_date(when, now)
    payload = request.headers.get("x-oss-content-sha256", "")
    if payload != UNSIGNED_PAYLOAD and payload != hashlib.sha256(request.body).hexdigest():
        raise OssSignatureError(
            "AccessDenied", "x-oss-content-sha256 must be UNSIGNED-PAYLOAD or the body's hash."
        )
    additional = _additional(fields.get("AdditionalHeaders", ""), request.headers)
    canonical = canonical_request(
        request.method,
        canonical_uri(request.bucket, request.key),
        canonical_query(request.params),
        request.headers,
        additional,
        payload,
    )
    _compare(fields["Signature"], signature(secrets[key_id], when, region, canonical))
    return Verified(key_id, presigned=False)


def _verify_query(request: Request, secrets: Mapping[str, str], now: datetime) -> Verified:
    params: dict[str, str] = {}
    for name, value in request.params:
        if name in params:
            raise OssSignatureError("AccessDenied", f"{name} is given twice in the query.")
        params[name] = value
    if params.get(Q_VERSION) != ALGORITHM:
        raise OssSignatureError("AccessDenied", f"{Q_VERSION} must be {ALGORITHM}.")
    credential = params.get(Q_CREDENTIAL, "")
    key_id, region = _credential(credential, secrets)
    when = params.get(Q_DATE, "")
    _check_scope(credential, when)
    moment = _parse_date(when)
    expires = params.get(Q_EXPIRES, "")
    if not expires.isdigit() or not 0 < int(expires) <= MAX_EXPIRES:
        raise OssSignatureError("AccessDenied", f"{Q_EXPIRES} must be 1 to {MAX_EXPIRES} seconds.")
    if moment - _utc(now) > MAX_CLOCK_SKEW:
        raise OssSignatureError("RequestTimeTooSkewed", f"{Q_DATE} {when} is in the future.")
    if _utc(now) > moment + timedelta(seconds=int(expires)):
        raise OssSignatureError("AccessDenied", "Request has expired.")
    additional = _additional(params.get(Q_ADDITIONAL, ""), request.headers)
    canonical = canonical_request(
        request.method,
        canonical_uri(request.bucket, request.key),
        canonical_query((n, v) for n, v in request.params if n != Q_SIGNATURE),
        request.headers,
        additional,
        request.headers.get("x-oss-content-sha256", UNSIGNED_PAYLOAD),
    )
    _compare(params[Q_SIGNATURE], signature(secrets[key_id], when, region, canonical))
    return Verified(key_id, presigned=True)


def _credential(credential: str, secrets: Mapping[str, str]) -> tuple[str, str]:
    """(key id, region) of `AK/DAY/REGION/oss/aliyun_v4_request`; the key id must be known."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[3] != PRODUCT or parts[4] != TERMINATOR or not parts[2]:
        raise OssSignatureError("AccessDenied", "The credential scope is malformed.")
    if parts[0] not in secrets:
        raise OssSignatureError(
            "InvalidAccessKeyId",
            "The OSS Access Key Id you provided does not exist in our records.",
        )
    return parts[0], parts[2]


def _check_scope(credential: str, when: str) -> None:
    if credential.split("/")[1] != when[:8]:
        raise OssSignatureError("AccessDenied", "The credential scope's day is not x-oss-date's.")


def _parse_date(when: str) -> datetime:
    try:
        return datetime.strptime(when, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise OssSignatureError(
            "AccessDenied", f"x-oss-date {when!r} is not like 20240131T120000Z."
        ) from None


def _check_date(when: str, now: datetime) -> None:
    if abs(_parse_date(when) - _utc(now)) > MAX_CLOCK_SKEW:
        raise OssSignatureError(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )


def _additional(names: str, headers: Mapping[str, str]) -> list[str]:
    listed = [name for name in names.split(";") if name]
    if listed != sorted(set(listed)) or any(name not in headers for name in listed):
        raise OssSignatureError(
            "SignatureDoesNotMatch", "The additional headers are not sorted, distinct and present."
        )
    return listed


def _compare(given: str, expected: str) -> None:
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        raise OssSignatureError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)
