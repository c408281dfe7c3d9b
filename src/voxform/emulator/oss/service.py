"""The emulated OSS API: one path-style request (`/BUCKET/KEY`) in, one answer out.

The pipeline knows nothing of HTTP: the operation (from method, path, query and headers),
its rate limit, the V4 signature (header or presigned query, `voxform.oss.verify`), then the
operation on the store. Each refusal is an OssError with OSS's status and code; the HTTP
room turns it into OSS's error XML.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import unquote, unquote_to_bytes

from voxform.emulator.oss.store import ObjectStore, StoreError
from voxform.emulator.throttle import RateLimits
from voxform.oss import documents
from voxform.oss.documents import ObjectInfo, XmlError
from voxform.oss.list_page import list_page
from voxform.oss.signing import OssSignatureError, decode_query
from voxform.oss.verify import Request, verify

OPERATIONS: tuple[str, ...] = (
    "HeadObject",
    "GetObject",
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "DeleteMultipleObjects",
    "ListObjectsV2",
)
_AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav"}

OssError = StoreError  # an error answer: status, OSS code, message


@dataclass(frozen=True)
class Answer:
    """What to send back: status, headers (besides the common ones) and body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    code: str = ""  # OSS's error code of an error answer (counted and logged, not sent)


class OssService:
    """Answers OSS calls over `store`, signed with one of `secrets` (key id -> secret)."""

    def __init__(
        self,
        store: ObjectStore,
        secrets: Mapping[str, str],
        *,
        clock: Callable[[], datetime],
        rate_limits: RateLimits,
    ) -> None:
        self.store = store
        self._secrets = secrets
        self._clock = clock
        self._rate_limits = rate_limits
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self._lock = threading.Lock()

    def stats(self) -> dict[str, dict[str, int]]:
        """Calls and throttled calls per OSS operation."""
        with self._lock:
            return {
                "oss_calls": {op: self.calls[op] for op in OPERATIONS},
                "oss_throttled": {op: self.throttled[op] for op in OPERATIONS},
            }

    def handle(
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> tuple[str, Answer]:
        """(operation, answer) for one request; OssError refuses it."""
        raw_path, _, raw_query = target.partition("?")
        try:
            path = unquote_to_bytes(raw_path).decode("utf-8")
            params = decode_query(raw_query)
        except UnicodeDecodeError:
            raise OssError(400, "InvalidURI", "The URI is not percent-encoded UTF-8.") from None
        lower = {name.lower(): value for name, value in headers}
        bucket, _, key_part = path.lstrip("/").partition("/")
        key = key_part or None
        operation = _operation(method, bucket, key, dict(params), lower)
        wait_ms = self._rate_limits.take(operation)
        with self._lock:
            self.calls[operation] += 1
            if wait_ms is not None:
                self.throttled[operation] += 1
        if wait_ms is not None:
            raise OssError(503, "SlowDown", "Please reduce your request rate.")
        try:
            verify(Request(method, bucket, key, params, lower, body), self._secrets, self._clock())
        except OssSignatureError as error:
            raise OssError(403, error.code, error.message) from None
        query = dict(params)
        if operation == "ListObjectsV2":
            return operation, self._list(bucket, query)
        if operation == "DeleteMultipleObjects":
            return operation, self._delete_many(bucket, query, lower, body)
        assert key is not None
        if operation == "HeadObject":
            return operation, Answer(200, _object_headers(self.store.head(bucket, key)))
        if operation == "GetObject":
            info, data = self.store.read(bucket, key)
            return operation, Answer(200, _object_headers(info), data)
        if operation == "DeleteObject":
            self.store.delete(bucket, key)
            return operation, Answer(204)
        forbid = lower.get("x-oss-forbid-overwrite", "").lower() == "true"
        if operation == "CopyObject":
            return operation, self._copy(bucket, key, lower, forbid)
        _check_md5(lower, body)
        info = self.store.write(bucket, key, body, forbid_overwrite=forbid)
        return operation, Answer(200, _written_headers(info))

    def _copy(self, bucket: str, key: str, headers: Mapping[str, str], forbid: bool) -> Answer:
        source = unquote(headers["x-oss-copy-source"])
        source_bucket, _, source_key = source.lstrip("/").partition("/")
        source_key = source_key.partition("?versionId=")[0]
        info, data = self.store.read(source_bucket, source_key)
        wanted = headers.get("x-oss-copy-source-if-match")
        if wanted is not None and wanted.strip('"').upper() != info.etag.strip('"'):
            raise OssError(412, "PreconditionFailed", "At least one of the pre-conditions failed.")
        copied = self.store.write(bucket, key, data, forbid_overwrite=forbid)
        assert copied.last_modified is not None
        body = documents.copy_result(copied.etag, copied.last_modified)
        return Answer(200, {**_written_headers(copied), "content-type": "application/xml"}, body)

    def _delete_many(
        self, bucket: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if "content-md5" not in headers:
            raise OssError(400, "MissingArgument", "Missing Some Required Arguments: Content-MD5.")
        _check_md5(headers, body)
        url_encoded = query.get("encoding-type") == "url"
        try:
            keys, quiet = documents.parse_delete_request(body, url_encoded=url_encoded)
        except XmlError:
            raise OssError(
                400, "MalformedXML", "The XML you provided was not well-formed."
            ) from None
        if not 0 < len(keys) <= documents.MAX_DELETE_KEYS:
            raise OssError(400, "MalformedXML", "A delete names 1 to 1000 objects.")
        for key in keys:
            self.store.delete(bucket, key)
        result = documents.delete_result([] if quiet else keys, url_encoded=url_encoded)
        return Answer(200, {"content-type": "application/xml"}, result)

    def _list(self, bucket: str, query: Mapping[str, str]) -> Answer:
        text = query.get("max-keys", "100")
        if not text.isdigit() or not 0 < int(text) <= 1000:
            raise OssError(400, "InvalidArgument", "max-keys must be 1 to 1000.")
        max_keys = int(text)
        prefix = query.get("prefix", "")
        token = query.get("continuation-token", "")
        after = _token_key(token) if token else query.get("start-after", "")
        keys = self.store.keys_after(bucket, prefix, after, max_keys + 1)
        page = keys[:max_keys]
        objects = self.store.listed(bucket, page)  # one deleted meanwhile is left out
        more = len(keys) > max_keys
        next_token = base64.urlsafe_b64encode(page[-1].encode()).decode() if more else None
        body = list_page(
            bucket=bucket,
            prefix=prefix,
            max_keys=max_keys,
            objects=objects,
            continuation_token=token,
            next_token=next_token,
            url_encoded=query.get("encoding-type") == "url",
        )
        return Answer(200, {"content-type": "application/xml"}, body)


def _operation(
    method: str, bucket: str, key: str | None, query: Mapping[str, str], headers: Mapping[str, str]
) -> str:
    """The OSS operation a path-style request stands for; OssError for others."""
    if not bucket:
        raise OssError(405, "MethodNotAllowed", "ListBuckets is not served by the emulator.")
    if key is None:
        if method == "GET" and query.get("list-type") == "2":
            return "ListObjectsV2"
        if method == "POST" and "delete" in query:
            return "DeleteMultipleObjects"
        raise OssError(405, "MethodNotAllowed", f"{method} on a bucket is not served here.")
    named = {"HEAD": "HeadObject", "GET": "GetObject", "DELETE": "DeleteObject"}
    if method in named:
        return named[method]
    if method == "PUT":
        return "CopyObject" if "x-oss-copy-source" in headers else "PutObject"
    raise OssError(405, "MethodNotAllowed", f"{method} on an object is not served here.")


def _token_key(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        raise OssError(400, "InvalidArgument", "The continuation token is invalid.") from None


def _check_md5(headers: Mapping[str, str], body: bytes) -> None:
    given = headers.get("content-md5")
    if given is not None and given != base64.b64encode(hashlib.md5(body).digest()).decode():
        raise OssError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")


def _written_headers(info: ObjectInfo) -> dict[str, str]:
    return {"etag": info.etag, "x-oss-hash-crc64ecma": str(info.crc64)}


def _object_headers(info: ObjectInfo) -> dict[str, str]:
    assert info.last_modified is not None
    kind = _AUDIO_TYPES.get(info.key.rpartition(".")[2], "application/octet-stream")
    return {
        **_written_headers(info),
        "content-type": kind,
        "content-length": str(info.size),
        "last-modified": format_datetime(info.last_modified, usegmt=True),
        "x-oss-object-type": "Normal",
        "x-oss-storage-class": "Standard",
    }
