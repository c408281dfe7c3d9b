"""OSS's error answers as voxform's errors, split by what the caller does with each.

Throttling, 5xx, an unreadable answer and a transport failure may pass later (retryable); a
credential, signature, clock or bucket problem will fail every call (fatal); anything else
fails the one object, with NoSuchKey (ObjectMissing) and a failed condition (409, 412:
ObjectConflict) told apart because drift, prune and copies decide on them. A HEAD answer has
no body: OSS sends its error document base64-encoded in `x-oss-err` instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import httpx

from voxform.errors import (
    FatalError,
    ItemError,
    ProviderError,
    RetryableError,
    ThrottledError,
    UnknownOutcome,
)
from voxform.oss.documents import parse_error
from voxform.providers.credentials import Credentials

THROTTLING_CODES = frozenset({"SlowDown", "Throttling"})
RETRYABLE_CODES = frozenset(
    {"ServiceUnavailable", "InternalError", "SlowDown", "RequestTimeout", "Throttling"}
)
_STATUS_CODES = {
    403: "AccessDenied",
    404: "NoSuchKey",
    409: "FileAlreadyExists",
    412: "PreconditionFailed",
}
_CREDENTIAL_HINTS = {
    "InvalidAccessKeyId": "OSS does not know the access key id {key_id!r} from {source}",
    "SignatureDoesNotMatch": "check the access key secret for {key_id!r} from {source}",
    "InvalidSecurityToken": "the STS token from {source} is invalid",
    "SecurityTokenExpired": "the STS token from {source} has expired",
    "AccessDenied": "the access key {key_id!r} from {source} may not do this (RAM policy?)",
    "RequestTimeTooSkewed": "this machine's clock is more than 15 minutes off OSS's time",
    "NoSuchBucket": "the bucket does not exist in this region",
}


class ObjectMissing(ItemError):
    """The object is not there (NoSuchKey)."""


class ObjectConflict(ItemError):
    """A condition failed: the key exists (FileAlreadyExists) or the source changed
    (PreconditionFailed)."""


class DownloadCorrupted(RetryableError):
    """The bytes received are not the object's (CRC-64 or size); nothing was kept."""


def error_for(
    operation: str, response: httpx.Response, content: bytes, credentials: Credentials
) -> ProviderError:
    """The voxform error for a non-2xx OSS answer."""
    status = response.status_code
    request_id = response.headers.get("x-oss-request-id", "")
    if not content and response.headers.get("x-oss-err"):
        try:
            content = base64.b64decode(response.headers["x-oss-err"], validate=True)
        except (binascii.Error, ValueError):
            content = b""
    document = parse_error(content)
    if document is None and content and status < 500:
        return RetryableError(
            f"{operation}: OSS answered HTTP {status} with a body that is not an OSS error"
            f" document (a proxy or gateway page?; request {request_id})",
            code=f"HTTP{status}",
            request_id=request_id,
        )
    code = (document.code if document else "") or _STATUS_CODES.get(status, f"HTTP{status}")
    message = document.message if document else ""
    request_id = request_id or (document.request_id if document else "")
    told = f"{operation}: {code}: {message} (HTTP {status}, request {request_id})"
    if code in THROTTLING_CODES:  # OSS's exact throttling code is unverified
        return ThrottledError(told, code=code, request_id=request_id)
    if code in RETRYABLE_CODES or status >= 500:
        return RetryableError(told, code=code, request_id=request_id)
    if code in _CREDENTIAL_HINTS:
        hint = _CREDENTIAL_HINTS[code].format(
            key_id=credentials.access_key_id, source=credentials.source
        )
        return FatalError(f"{told}: {hint}", code=code, request_id=request_id)
    if code == "NoSuchKey":
        return ObjectMissing(told, code=code, request_id=request_id)
    if status in (409, 412):
        return ObjectConflict(told, code=code, request_id=request_id)
    return ItemError(told, code=code, request_id=request_id)


def transport_error(
    operation: str, endpoint: str, error: httpx.HTTPError, scrub: Callable[[Exception], str]
) -> RetryableError:
    """A failure below HTTP: before sending (retryable) or after (the outcome is unknown)."""
    if isinstance(error, httpx.ConnectError):
        return RetryableError(f"{operation}: cannot connect to OSS at {endpoint}: {scrub(error)}")
    if isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout):
        return RetryableError(
            f"{operation}: no connection to OSS at {endpoint} in time ({type(error).__name__})"
        )
    return UnknownOutcome(
        f"{operation}: the connection to OSS at {endpoint} failed:"
        f" {type(error).__name__}: {scrub(error)}"
    )
