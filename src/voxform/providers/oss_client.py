"""A thin signed HTTP client for OSS (the bucket of an ICE target), beside the ICE client.

Requests are signed with OSS4-HMAC-SHA256 (`voxform.oss.signing`) and OSS's XML error
answers are mapped into voxform's error tree as ICE's are: throttling, 5xx and transport
failures are retryable, a bad credential, signature or clock stops the run, anything else
fails the one object. Every message names the operation and OSS's request id, never a
secret. A download is written beside its destination, checked against the object's CRC-64
and size, and only then renamed into place; a mismatch leaves no file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO
from urllib.parse import quote

import httpx

from voxform import __version__
from voxform.errors import ItemError, ProviderError, RetryableError
from voxform.files import write_atomic
from voxform.oss import documents
from voxform.oss.crc64 import Crc64
from voxform.oss.documents import ListPage, ObjectInfo, XmlError
from voxform.oss.names import key_problem
from voxform.oss.signing import Signer, presign, query_string, sign_headers
from voxform.providers.credentials import Credentials
from voxform.providers.oss_endpoint import OssEndpoint
from voxform.providers.oss_errors import DownloadCorrupted, error_for, transport_error

MAX_ERROR_BODY = 64 << 10
CHUNK = 1 << 16


@dataclass(frozen=True)
class Written:
    """What a PutObject or CopyObject made: the new object's ETag (and CRC-64 when told)."""

    etag: str
    crc64: int | None


class OssClient:
    """Signs and sends OSS calls for one bucket; raises RetryableError, ItemError or
    FatalError (NoSuchKey as ObjectMissing, 409 and 412 as ObjectConflict)."""

    def __init__(
        self,
        endpoint: OssEndpoint,
        credentials: Credentials,
        *,
        timeout: float = 30,
        transport: httpx.BaseTransport | None = None,
        clock: type[datetime] = datetime,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = endpoint.bucket
        self._credentials = credentials
        self._signer = Signer(
            credentials.access_key_id,
            credentials.access_key_secret,
            credentials.security_token,
            endpoint.region,
        )
        self._timeout = timeout
        # TLS is verified for every https origin. A plain-http one (an emulator on this
        # machine, or a target that says `insecure: true`) makes no TLS connection, so the
        # CA store is not read for it: reading it was a fifth of a plan's bucket refresh.
        tls = not endpoint.origin.startswith("http://")
        self._http = transport or httpx.HTTPTransport(verify=tls)
        self._extensions = {"timeout": httpx.Timeout(timeout).as_dict()}
        self._clock = clock

    def __repr__(self) -> str:
        return f"OssClient(endpoint={self.endpoint!r}, credentials={self._credentials!r})"

    def __enter__(self) -> OssClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- operations ---------------------------------------------------------------------------

    def head_object(self, key: str) -> ObjectInfo:
        """HeadObject: ETag, size, CRC-64 and time of one object (ObjectMissing if none)."""
        with self._send("HeadObject", "HEAD", key) as response:
            return _info(key, response.headers)

    def get_object(self, key: str, destination: Path, *, root: Path | None = None) -> ObjectInfo:
        """GetObject into `destination`, checked against the object's CRC-64 and size before
        it replaces what was there; DownloadCorrupted (and no file) when they differ. With
        `root`, written as every project file is: through no symlink below it."""
        found: list[ObjectInfo] = []
        write_atomic(
            destination,
            lambda handle: found.append(self.read_object(key, handle)),
            durable=False,
            root=root,
        )
        return found[0]

    def read_object(self, key: str, sink: BinaryIO) -> ObjectInfo:
        """GetObject streamed into `sink`; DownloadCorrupted, once every byte is written,
        when they are not the object's CRC-64 and size (the caller drops what it wrote)."""
        with self._send("GetObject", "GET", key, stream=True) as response:
            info = _info(key, response.headers)
            request_id = response.headers.get("x-oss-request-id", "")
            running = Crc64()
            try:
                for chunk in response.iter_raw(CHUNK):
                    running.update(chunk)
                    sink.write(chunk)
            except httpx.HTTPError as error:
                raise transport_error(
                    "GetObject", self.endpoint.shown, error, self._scrub
                ) from error
        if running.size != info.size or (info.crc64 is not None and running.value != info.crc64):
            raise DownloadCorrupted(
                f"GetObject {self._url_of(key)}: the {running.size} bytes received have"
                f" CRC-64 {running.value}, but OSS says {info.size} bytes with CRC-64"
                f" {info.crc64}; the download was not kept (request {request_id})",
                code="CrcMismatch",
                request_id=request_id,
            )
        return info if info.crc64 is not None else replace(info, crc64=running.value)

    def put_object(
        self,
        key: str,
        data: bytes,
        *,
        forbid_overwrite: bool = False,
        content_type: str = "application/octet-stream",
    ) -> Written:
        """PutObject; with `forbid_overwrite`, an existing key is ObjectConflict."""
        headers = {"content-type": content_type, "content-md5": _md5(data)}
        if forbid_overwrite:
            headers["x-oss-forbid-overwrite"] = "true"
        with self._send("PutObject", "PUT", key, headers=headers, body=data) as response:
            written = _written(response.headers, response.headers.get("etag", ""))
        expected = Crc64()
        expected.update(data)
        if written.crc64 is not None and written.crc64 != expected.value:
            raise RetryableError(
                f"PutObject {self._url_of(key)}: OSS stored CRC-64 {written.crc64}, the bytes"
                f" sent have {expected.value}",
                code="CrcMismatch",
            )
        return written

    def copy_object(
        self,
        source_key: str,
        key: str,
        *,
        if_match: str | None = None,
        forbid_overwrite: bool = False,
        source_bucket: str | None = None,
    ) -> Written:
        """CopyObject within the region; with `if_match`, only while the source still has
        that ETag (ObjectConflict otherwise)."""
        _check_key(source_key)
        headers = {"x-oss-copy-source": f"/{source_bucket or self.bucket}/{quote(source_key)}"}
        if if_match is not None:
            headers["x-oss-copy-source-if-match"] = if_match
        if forbid_overwrite:
            headers["x-oss-forbid-overwrite"] = "true"
        with self._send("CopyObject", "PUT", key, headers=headers) as response:
            try:
                etag = documents.parse_copy_result(response.read())
            except XmlError as error:
                raise self._unreadable("CopyObject", response, error) from None
            return _written(response.headers, etag)

    def delete_object(self, key: str) -> None:
        """DeleteObject (a key that does not exist is no error)."""
        with self._send("DeleteObject", "DELETE", key):
            pass

    def delete_objects(self, keys: Sequence[str]) -> list[str]:
        """DeleteMultipleObjects of 1 to 1,000 keys in quiet mode; the keys OSS names as
        deleted (none in quiet mode)."""
        for key in keys:
            _check_key(key)
        body = documents.delete_request(keys, quiet=True)
        headers = {"content-type": "application/xml", "content-md5": _md5(body)}
        params = {"delete": "", "encoding-type": "url"}
        with self._send(
            "DeleteMultipleObjects", "POST", None, params=params, headers=headers, body=body
        ) as response:
            try:
                return documents.parse_delete_result(response.read())
            except XmlError as error:
                raise self._unreadable("DeleteMultipleObjects", response, error) from None

    def list_page(
        self,
        prefix: str = "",
        token: str | None = None,
        max_keys: int = 1000,
        *,
        start_after: str | None = None,
    ) -> ListPage:
        """One ListObjectsV2 page of keys starting with `prefix` (keys URL-decoded), from
        the page `token` names, else from the first key after `start_after` (no object's
        time read: nothing that lists needs it)."""
        params = {"list-type": "2", "prefix": prefix, "max-keys": str(max_keys)}
        params["encoding-type"] = "url"
        if token:
            params["continuation-token"] = token
        elif start_after:
            params["start-after"] = start_after
        with self._send("ListObjectsV2", "GET", None, params=params) as response:
            try:
                return documents.parse_list(response.read(), times=False)
            except XmlError as error:
                raise self._unreadable("ListObjectsV2", response, error) from None

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, page after page."""
        token: str | None = None
        while True:
            page = self.list_page(prefix, token)
            yield from page.objects
            if page.next_token is None:
                return
            token = page.next_token

    def presigned_get_url(self, key: str, *, expires: int = 3600) -> str:
        """A URL that GETs the object without credentials for `expires` seconds."""
        _check_key(key)
        query = presign(
            self._signer,
            method="GET",
            bucket=self.bucket,
            key=key,
            params={},
            now=self._clock.now(UTC),
            expires=expires,
        )
        return f"{self._url_of(key)}?{query}"

    # -- transport ----------------------------------------------------------------------------

    def _url_of(self, key: str | None) -> str:
        return self.endpoint.url(key, _path_of)

    @contextlib.contextmanager
    def _send(
        self,
        operation: str,
        method: str,
        key: str | None,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        stream: bool = False,
    ) -> Iterator[httpx.Response]:
        """Sign and send one call; yields a 2xx response (closed afterwards), raises the
        error an answer or a failure stands for."""
        if key is not None:
            _check_key(key)
        params = params or {}
        signed = sign_headers(
            self._signer,
            method=method,
            bucket=self.bucket,
            key=key,
            params=params,
            headers={**(headers or {}), "user-agent": f"voxform/{__version__}"},
            now=self._clock.now(UTC),
        )
        query = query_string(params)
        url = self._url_of(key) + (f"?{query}" if query else "")
        request = httpx.Request(
            method, url, headers=signed, content=body, extensions=self._extensions
        )
        try:
            response = self._http.handle_request(request)
        except httpx.HTTPError as error:
            raise transport_error(operation, self.endpoint.shown, error, self._scrub) from error
        try:
            if not response.is_success:
                content = b"" if method == "HEAD" else _read_some(response)
                raise error_for(operation, response, content, self._credentials)
            if not stream:
                try:
                    response.read()
                except httpx.HTTPError as error:
                    raise transport_error(
                        operation, self.endpoint.shown, error, self._scrub
                    ) from error
            yield response
        finally:
            response.close()

    def _unreadable(
        self, operation: str, response: httpx.Response, error: Exception
    ) -> ProviderError:
        request_id = response.headers.get("x-oss-request-id", "")
        return RetryableError(
            f"{operation}: {self.endpoint.shown} answered a document voxform cannot read"
            f" ({error}; request {request_id})",
            code="MalformedAnswer",
            request_id=request_id,
        )

    def _scrub(self, error: Exception) -> str:
        """An exception's text without the secret or token (the HTTP library may quote a
        header value it refuses)."""
        text = str(error)
        for secret in (self._credentials.access_key_secret, self._credentials.security_token):
            if secret:
                text = text.replace(secret, "***")
        return text


def _path_of(key: str) -> str:
    """A key as a URL path: URI-encoded with `/` kept; a `.` or `..` segment written
    %2E so that no URL library takes it for a step up (the signature is over the key)."""
    segments = quote(key).split("/")
    return "/".join(s.replace(".", "%2E") if s in (".", "..") else s for s in segments)


def _check_key(key: str) -> None:
    problem = key_problem(key)
    if problem is not None:
        raise ItemError(problem, code="InvalidObjectName")


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def _read_some(response: httpx.Response) -> bytes:
    """At most MAX_ERROR_BODY bytes of an error answer (a proxy page may be large)."""
    parts: list[bytes] = []
    size = 0
    with contextlib.suppress(httpx.HTTPError):
        for chunk in response.iter_raw(CHUNK):
            parts.append(chunk)
            size += len(chunk)
            if size >= MAX_ERROR_BODY:
                break
    return b"".join(parts)[:MAX_ERROR_BODY]


def _crc(headers: httpx.Headers) -> int | None:
    value = headers.get("x-oss-hash-crc64ecma", "")
    return int(value) if value.isdigit() and int(value) < 1 << 64 else None


def _written(headers: httpx.Headers, etag: str) -> Written:
    return Written(etag=etag, crc64=_crc(headers))


def _info(key: str, headers: httpx.Headers) -> ObjectInfo:
    length = headers.get("content-length", "")
    modified: datetime | None
    try:
        modified = parsedate_to_datetime(headers.get("last-modified", ""))
    except (TypeError, ValueError):
        modified = None
    return ObjectInfo(
        key=key,
        etag=headers.get("etag", ""),
        size=int(length) if length.isdigit() else -1,
        crc64=_crc(headers),
        last_modified=modified,
    )
