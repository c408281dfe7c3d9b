"""OSS4-HMAC-SHA256 (OSS's V4 signature): signing requests and presigned URLs, and checking
them, as the official SDK's `signer/v4.py` does.

The canonical request is the method, the URI-encoded `/BUCKET/KEY` (`/` kept, also for a
virtual-hosted request), the query sorted by encoded name and value (a name without a value
stands alone), the `x-oss-*`, `content-type` and `content-md5` headers plus any additional
ones, sorted, the additional header names and the payload hash (`UNSIGNED-PAYLOAD`). The
signing key is an HMAC-SHA256 chain from `aliyun_v4` + secret over the day, the region,
`oss` and `aliyun_v4_request`. A presigned URL carries the same signature in its query.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote_to_bytes

from voxform.errors import VoxformError

ALGORITHM = "OSS4-HMAC-SHA256"
PRODUCT = "oss"
TERMINATOR = "aliyun_v4_request"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 7 * 24 * 3600  # a presigned URL lives at most 7 days
# Query parameters of a presigned URL; the signature itself is left out of what is signed.
Q_VERSION, Q_DATE, Q_EXPIRES = "x-oss-signature-version", "x-oss-date", "x-oss-expires"
Q_CREDENTIAL, Q_SIGNATURE = "x-oss-credential", "x-oss-signature"
Q_TOKEN, Q_ADDITIONAL = "x-oss-security-token", "x-oss-additional-headers"


class OssSignatureError(VoxformError):
    """A request failed OSS's authentication; `code` is OSS's error code (all are 403)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Signer:
    """Who signs and where: the access key (secret and token kept out of the repr)."""

    access_key_id: str
    access_key_secret: str
    security_token: str | None
    region: str

    def __repr__(self) -> str:
        return f"Signer(access_key_id={self.access_key_id!r}, region={self.region!r})"


def encode(text: str) -> str:
    """RFC 3986 encoding of UTF-8 (only A-Z a-z 0-9 - _ . ~ stay), as query parts are sent."""
    return quote(text, safe="")


def canonical_uri(bucket: str | None, key: str | None) -> str:
    """`/BUCKET/KEY` URI-encoded with `/` kept; `/BUCKET/` for a bucket, `/` for none."""
    uri = "/" + (f"{bucket}/" if bucket is not None else "") + (key or "")
    return quote(uri, safe="/")


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Decoded (name, value) pairs encoded and sorted; an empty value leaves the name alone."""
    pairs = sorted((encode(name), encode(value)) for name, value in params)
    return "&".join(f"{name}={value}" if value else name for name, value in pairs)


def query_string(params: Mapping[str, str]) -> str:
    """A query as the client sends it (in the given order); `name` alone for an empty value."""
    return "&".join(
        f"{encode(name)}={encode(value)}" if value else encode(name)
        for name, value in params.items()
    )


def decode_query(query: str) -> list[tuple[str, str]]:
    """A raw query's (name, value) pairs; `%20` is a space and `+` a plus (OSS is not a
    form). UnicodeDecodeError for bytes that are not UTF-8."""
    pairs = []
    for piece in query.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(text: str) -> str:
    return unquote_to_bytes(text).decode("utf-8")


def is_signed_header(name: str, additional: Iterable[str] = ()) -> bool:
    """Whether a (lower-case) header goes into the canonical request."""
    return (
        name.startswith("x-oss-") or name in ("content-type", "content-md5") or name in additional
    )


def canonical_request(
    method: str,
    uri: str,
    query: str,
    headers: Mapping[str, str],
    additional: Sequence[str],
    payload_hash: str,
) -> str:
    """The canonical request over lower-case `headers` (only the signed ones are taken)."""
    block = "".join(
        f"{name}:{headers[name]}\n"
        for name in sorted(headers)
        if is_signed_header(name, additional)
    )
    return f"{method}\n{uri}\n{query}\n{block}\n{';'.join(additional)}\n{payload_hash}"


def scope(day: str, region: str) -> str:
    """The credential scope `DAY/REGION/oss/aliyun_v4_request`."""
    return f"{day}/{region}/{PRODUCT}/{TERMINATOR}"


def signature(secret: str, when: str, region: str, canonical: str) -> str:
    """The hex signature of a canonical request made at `when` (YYYYMMDDTHHMMSSZ)."""
    day = when[:8]
    to_sign = "\n".join(
        (ALGORITHM, when, scope(day, region), hashlib.sha256(canonical.encode()).hexdigest())
    )
    key = ("aliyun_v4" + secret).encode("utf-8")
    for part in (day, region, PRODUCT, TERMINATOR):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def stamp(when: datetime) -> str:
    """`when` as `x-oss-date` writes it (UTC; a naive datetime is taken as UTC)."""
    moment = when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return moment.strftime(DATE_FORMAT)


def sign_headers(
    signer: Signer,
    *,
    method: str,
    bucket: str | None,
    key: str | None,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    now: datetime,
    additional: Iterable[str] = (),
) -> dict[str, str]:
    """`headers` (names in lower case) plus the date, payload hash, token and Authorization
    that sign the request; `additional` names more headers to sign (when present)."""
    signed = {name.lower(): value for name, value in headers.items()}
    when = stamp(now)
    signed["x-oss-date"] = when
    signed["x-oss-content-sha256"] = UNSIGNED_PAYLOAD
    if signer.security_token:
        signed["x-oss-security-token"] = signer.security_token
    extra = _additional(additional, signed)
    canonical = canonical_request(
        method,
        canonical_uri(bucket, key),
        canonical_query(params.items()),
        signed,
        extra,
        UNSIGNED_PAYLOAD,
    )
    value = f"{ALGORITHM} Credential={signer.access_key_id}/{scope(when[:8], signer.region)}"
    if extra:
        value += f",AdditionalHeaders={';'.join(extra)}"
    sig = signature(signer.access_key_secret, when, signer.region, canonical)
    signed["authorization"] = f"{value},Signature={sig}"
    return signed


def _additional(names: Iterable[str], headers: Mapping[str, str]) -> list[str]:
    """The additional headers to sign: not signed anyway, present and not empty, sorted."""
    wanted = {name.lower() for name in names}
    return sorted(n for n in wanted if not is_signed_header(n) and headers.get(n))


def presign(
    signer: Signer,
    *,
    method: str,
    bucket: str,
    key: str,
    params: Mapping[str, str],
    now: datetime,
    expires: int,
) -> str:
    """The query of a presigned URL (to follow `?`), signature last; valid `expires` s."""
    if not 0 < expires <= MAX_EXPIRES:
        raise ValueError(f"a presigned URL lives 1 to {MAX_EXPIRES} seconds, not {expires}")
    when = stamp(now)
    query = dict(params)
    for name in (Q_SIGNATURE, Q_TOKEN, Q_ADDITIONAL):
        query.pop(name, None)
    query.update(
        {
            Q_VERSION: ALGORITHM,
            Q_DATE: when,
            Q_EXPIRES: str(expires),
            Q_CREDENTIAL: f"{signer.access_key_id}/{scope(when[:8], signer.region)}",
        }
    )
    if signer.security_token:
        query[Q_TOKEN] = signer.security_token
    canonical = canonical_request(
        method, canonical_uri(bucket, key), canonical_query(query.items()), {}, [], UNSIGNED_PAYLOAD
    )
    sig = signature(signer.access_key_secret, when, signer.region, canonical)
    return f"{query_string(query)}&{Q_SIGNATURE}={sig}"
