"""`sign_request` for one client's many calls, what is the same for each worked out once.

A client signs every call with the same host, API version, key and extra headers, and an
empty body: the body's digest, the key's bytes, the sorted list of signed header names and
the headers that never change are made when the client is; the date is spelt once a second.
What remains per call is the canonical query, the nonce, two SHA-256s and the headers dict.
The request is exactly `sign_request`'s for the same date and nonce (tests/ice compare them);
the nonce is a random prefix per signer and a count, with no call to the random source.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Mapping

from voxform.ice.signing import (
    ALGORITHM,
    DATE_FORMAT,
    SignedRequest,
    canonical_query,
    sha256_hex,
    signature_of,
)

_EMPTY_SHA256 = sha256_hex(b"")
_OWN = ("host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce")


class Signer:
    """Signs RPC calls with an empty body for one host, API version and key."""

    def __init__(
        self,
        *,
        host: str,
        version: str,
        access_key_id: str,
        access_key_secret: str,
        security_token: str | None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        # The headers in sign_request's order: the extra ones, then its own (one of these
        # among the extra ones is replaced in its place, as dict.update does).
        fixed = {k.lower(): v for k, v in (extra_headers or {}).items()}
        self._extra = fixed
        self._host = host
        self._version = version
        self._token = security_token
        self._key = access_key_secret.encode("utf-8")
        names = [*fixed, *_OWN, "x-acs-content-sha256"]
        if security_token:
            names.append("x-acs-security-token")
        self._names = sorted(set(names))
        self._signed = ";".join(self._names)
        self._credential = f"{ALGORITHM} Credential={access_key_id},SignedHeaders={self._signed},"
        self._date = (-1, "")  # a second, and how x-acs-date spells it
        # Nonces: 16 random hex digits for this signer, then a count; unique without a
        # call to the system's random source per request (two per item an apply sends).
        # (itertools.count is safe across threads: the client signs on several)
        self._prefix, self._count = secrets.token_hex(8), itertools.count()

    def sign(
        self,
        method: str,
        action: str,
        params: Mapping[str, str],
        *,
        now: float | None = None,
        nonce: str | None = None,
    ) -> SignedRequest:
        """`sign_request(method=..., action=..., params=..., body=b"", ...)` with this
        signer's host, version, key and extra headers; `now` in seconds since 1970."""
        headers = dict(self._extra)
        headers["host"] = self._host
        headers["x-acs-action"] = action
        headers["x-acs-version"] = self._version
        headers["x-acs-date"] = self._spelt(time.time() if now is None else now)
        headers["x-acs-signature-nonce"] = nonce or f"{self._prefix}{next(self._count):016x}"
        headers["x-acs-content-sha256"] = _EMPTY_SHA256
        if self._token:
            headers["x-acs-security-token"] = self._token
        query = canonical_query(params)
        block = "".join([f"{name}:{headers[name].strip()}\n" for name in self._names])
        method = method.upper()
        canonical = f"{method}\n/\n{query}\n{block}\n{self._signed}\n{_EMPTY_SHA256}"
        signature = signature_of(canonical, self._key)
        headers["authorization"] = f"{self._credential}Signature={signature}"
        return SignedRequest(path=f"/?{query}" if query else "/", headers=headers)

    def _spelt(self, now: float) -> str:
        """`now` as x-acs-date spells it (UTC, to the second), worked out once a second."""
        second = int(now // 1)
        known, spelt = self._date  # one tuple: threads may sign at once
        if second != known:
            spelt = time.strftime(DATE_FORMAT, time.gmtime(second))
            self._date = (second, spelt)
        return spelt
