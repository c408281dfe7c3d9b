"""ACS3-HMAC-SHA256 request signing and verification, as Alibaba Cloud's RPC APIs use it."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets as _secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_to_bytes

from voxform.errors import VoxformError

ALGORITHM = "ACS3-HMAC-SHA256"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A verifier refuses a request whose signature leaves any of these out.
REQUIRED_SIGNED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)

# Header names and values, either as a mapping or as (name, value) pairs (repeats allowed).
HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]]


class SignatureError(VoxformError):
    """A request failed authentication; `code` is the service's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SignedRequest:
    """What to send: the request target (`/?<canonical query>`) and every header."""

    path: str
    headers: dict[str, str]

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "x-acs-security-token" else v) for k, v in self.headers.items()}
        return f"SignedRequest(path={self.path!r}, headers={shown!r})"


@dataclass(frozen=True)
class VerifiedRequest:
    """A request whose signature checked out, with its decoded parameters."""

    access_key_id: str
    action: str
    version: str
    params: Mapping[str, str]
    date: str
    nonce: str
    signed_headers: tuple[str, ...]
    security_token: str | None = field(default=None, repr=False)


_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
# Each byte (as the code point of the same number) to what it becomes: str.translate does the
# whole string in C, where quote() looks every byte up in Python (the most of a signature's
# cost for a submission's SSML). A list, indexed by code point: a third faster than a dict.
_PERCENT = [chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in range(256)]


def percent_encode(s: str) -> str:
    """RFC 3986 encoding of UTF-8: only A-Z a-z 0-9 - _ . ~ stay, hex in upper case."""
    return s.encode("utf-8", "strict").decode("latin-1").translate(_PERCENT)


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, names and values percent-encoded, joined by `&`."""
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


def decode_query(query: str) -> list[tuple[str, str]]:
    """Split a query or form body into (name, value) pairs; `+` and `%20` both mean space."""
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        pairs.append((_unquote_strict(name), _unquote_strict(value)))
    return pairs


def _unquote_strict(s: str) -> str:
    # Raises UnicodeDecodeError on bytes that are not UTF-8, unlike urllib's unquote.
    if "%" not in s and "+" not in s and s.isascii():
        return s  # what the line below makes of it, without the work
    return unquote_to_bytes(s.replace("+", " ")).decode("utf-8")


def sha256_hex(body: bytes) -> str:
    """Lower-case hex SHA-256, the form `x-acs-content-sha256` carries."""
    return hashlib.sha256(body).hexdigest()


def collect_headers(headers: HeaderInput) -> dict[str, str]:
    """Lower-case names; repeated headers become their sorted values joined by `,` (as the SDK)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        grouped.setdefault(name.lower(), []).append(value.strip())
    return {name: ",".join(sorted(values)) for name, values in grouped.items()}


def authorization(
    *,
    method: str,
    query: str,
    headers: HeaderInput,
    signed_header_names: Iterable[str],
    body_sha256_hex: str,
    access_key_id: str,
    secret: str,
    path: str = "/",
) -> str:
    """The `Authorization` value for a request whose query is already canonical."""
    signed, signature = _signature(
        method, path, query, headers, signed_header_names, body_sha256_hex, secret
    )
    return f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"


def _signature(
    method: str,
    path: str,
    query: str,
    headers: HeaderInput,
    signed_header_names: Iterable[str],
    body_sha256_hex: str,
    secret: str,
) -> tuple[str, str]:
    """(SignedHeaders list, hex signature) for one request."""
    return _signed(
        method, path, query, collect_headers(headers), signed_header_names, body_sha256_hex, secret
    )


def _signed(
    method: str,
    path: str,
    query: str,
    present: Mapping[str, str],
    signed_header_names: Iterable[str],
    body_sha256_hex: str,
    secret: str,
) -> tuple[str, str]:
    """`_signature` of headers already collected (lower-case names, trimmed values)."""
    names = sorted({n.lower() for n in signed_header_names})
    missing = [n for n in names if n not in present]
    if missing:
        raise ValueError(f"signed headers not in the request: {', '.join(missing)}")
    block = "".join(f"{n}:{present[n]}\n" for n in names)
    signed = ";".join(names)
    canonical = f"{method}\n{path}\n{query}\n{block}\n{signed}\n{body_sha256_hex}"
    return signed, signature_of(canonical, secret.encode("utf-8"))


def signature_of(canonical: str, key: bytes) -> str:
    """The hex signature of a canonical request with the secret `key` (steps 5 and 6)."""
    to_sign = f"{ALGORITHM}\n{sha256_hex(canonical.encode('utf-8'))}"
    return hmac.digest(key, to_sign.encode("utf-8"), "sha256").hex()


def sign_request(
    *,
    method: str,
    host: str,
    action: str,
    version: str,
    params: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    access_key_secret: str,
    security_token: str | None,
    date: datetime | None = None,
    nonce: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> SignedRequest:
    """Sign an RPC call with params in the query; every header returned is signed."""
    when = _utc(date or datetime.now(UTC))
    headers = {k.lower(): v for k, v in (extra_headers or {}).items()}
    if body:
        headers.setdefault("content-type", FORM_CONTENT_TYPE)
    headers.update(
        {
            "host": host,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": when.strftime(DATE_FORMAT),
            "x-acs-signature-nonce": nonce or _secrets.token_hex(16),
            "x-acs-content-sha256": sha256_hex(body),
        }
    )
    if security_token:
        headers["x-acs-security-token"] = security_token
    query = canonical_query(params)
    # Every header is signed, and each name is lower-case once: collected as they are.
    present = {name: value.strip() for name, value in headers.items()}
    signed, signature = _signed(
        method.upper(),
        "/",
        query,
        present,
        present,
        headers["x-acs-content-sha256"],
        access_key_secret,
    )
    headers["authorization"] = (
        f"{ALGORITHM} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"
    )
    return SignedRequest(path=f"/?{query}" if query else "/", headers=headers)


def parse_authorization(value: str) -> tuple[str, tuple[str, ...], str]:
    """(access key id, signed header names, signature) from an `Authorization` value."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError("IncompleteSignature", f"the signature algorithm must be {ALGORITHM}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, val = part.strip().partition("=")
        if not sep or key in fields:
            raise SignatureError("IncompleteSignature", "the Authorization header is malformed")
        fields[key] = val
    if set(fields) != {"Credential", "SignedHeaders", "Signature"} or not all(fields.values()):
        raise SignatureError(
            "IncompleteSignature",
            "the Authorization header needs exactly Credential, SignedHeaders and Signature",
        )
    names = tuple(fields["SignedHeaders"].split(";"))
    if list(names) != sorted({n.lower() for n in names}):
        raise SignatureError(
            "IncompleteSignature",
            "SignedHeaders must list distinct lower-case header names in sorted order",
        )
    return fields["Credential"], names, fields["Signature"]


def verify_request(
    method: str,
    raw_path: str,
    headers: HeaderInput,
    body: bytes,
    secrets: Mapping[str, str],
    *,
    now: datetime | None = None,
    nonces: NonceCache | None = None,
) -> VerifiedRequest:
    """Check an ACS3 signature against `secrets` (key id -> secret); replay checks when asked."""
    present = collect_headers(headers)
    if "authorization" not in present:
        raise SignatureError("MissingAuthorization", "the request has no Authorization header")
    key_id, names, signature = parse_authorization(present["authorization"])
    if key_id not in secrets:
        raise SignatureError("InvalidAccessKeyId.NotFound", f"access key id {key_id!r} not found")
    must_sign = set(REQUIRED_SIGNED_HEADERS)
    if "x-acs-security-token" in present:
        must_sign.add("x-acs-security-token")
    if body:
        must_sign.add("content-type")
    unsigned = sorted(must_sign - set(names))
    if unsigned:
        raise SignatureError("IncompleteSignature", f"headers not signed: {', '.join(unsigned)}")
    absent = [n for n in names if n not in present]
    if absent:
        raise SignatureError("SignatureDoesNotMatch", f"signed headers absent: {', '.join(absent)}")
    if present["x-acs-content-sha256"] != sha256_hex(body):
        raise SignatureError("SignatureDoesNotMatch", "x-acs-content-sha256 is not the body's hash")
    path, _, query = raw_path.partition("?")
    try:
        query_params = _unique(decode_query(query), "query", "SignatureDoesNotMatch")
    except UnicodeDecodeError:
        raise SignatureError(
            "SignatureDoesNotMatch", "the query is not percent-encoded UTF-8"
        ) from None
    _, expected = _signed(
        method,
        path or "/",
        canonical_query(query_params),
        present,
        names,
        present["x-acs-content-sha256"],
        secrets[key_id],
    )
    if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii")):
        raise SignatureError("SignatureDoesNotMatch", "the signature does not match the request")
    params = dict(query_params)
    if body and present["content-type"].split(";")[0].strip().lower() == FORM_CONTENT_TYPE:
        try:
            form = _unique(decode_query(body.decode("ascii")), "form body", "InvalidParameter")
        except UnicodeDecodeError:
            raise SignatureError(
                "InvalidParameter", "the form body is not percent-encoded UTF-8"
            ) from None
        both = sorted(set(form) & set(params))
        if both:
            raise SignatureError("InvalidParameter", f"given twice: {', '.join(both)}")
        params.update(form)
    verified = VerifiedRequest(
        access_key_id=key_id,
        action=present["x-acs-action"],
        version=present["x-acs-version"],
        params=params,
        date=present["x-acs-date"],
        nonce=present["x-acs-signature-nonce"],
        signed_headers=names,
        security_token=present.get("x-acs-security-token"),
    )
    if now is not None or nonces is not None:
        # Nonces are only remembered for a while, so a nonce check needs the date check too.
        moment = _utc(now or datetime.now(UTC))
        check_date(verified.date, moment)
        if nonces is not None:
            check_nonce(verified, nonces, moment)
    return verified


def _unique(pairs: list[tuple[str, str]], where: str, code: str) -> dict[str, str]:
    """Pairs as a dict; a repeated name is ambiguous because the signer signs a mapping."""
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise SignatureError(code, f"{name!r} repeated in the {where}")
        params[name] = value
    return params


def check_date(date: str, now: datetime, max_skew: timedelta = MAX_CLOCK_SKEW) -> None:
    """Refuse an `x-acs-date` that is malformed or more than `max_skew` away from `now`."""
    try:
        when = _parse_date(date)
    except ValueError:
        raise SignatureError(
            "InvalidTimeStamp.Format", f"x-acs-date {date!r} is not like 2024-01-31T12:00:00Z"
        ) from None
    if abs(_utc(now) - when) > max_skew:
        raise SignatureError(
            "InvalidTimeStamp.Expired",
            f"x-acs-date {date} is more than {max_skew.total_seconds() / 60:g} minutes away"
            f" from the server's time {_utc(now).strftime(DATE_FORMAT)}",
        )


@functools.lru_cache(maxsize=16)
def _parse_date(date: str) -> datetime:
    """An `x-acs-date` as an aware datetime (a server reads the same second many times)."""
    return datetime.strptime(date, DATE_FORMAT).replace(tzinfo=UTC)


def _utc(when: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)


def check_nonce(request: VerifiedRequest, nonces: NonceCache, now: datetime) -> None:
    """Refuse a signature nonce this key id has used before."""
    if not nonces.add(f"{request.access_key_id}\n{request.nonce}", now):
        raise SignatureError("SignatureNonceUsed", f"nonce {request.nonce!r} was used before")


class NonceCache:
    """Remembers nonces long enough to refuse replays: after that the date check refuses them."""

    def __init__(self, ttl: timedelta = 2 * MAX_CLOCK_SKEW) -> None:
        self._ttl = ttl
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str, now: datetime) -> bool:
        """Record `key`; False when it was already recorded within the time to live."""
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at <= self._ttl:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True
