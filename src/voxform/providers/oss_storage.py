"""An ICE target's bucket as a `Storage`: its objects by `oss://BUCKET/KEY`, over OssClient.

The client signs and maps errors; this module speaks the lockfile's names and values
(`ObjectDigest`) and decides how to read many objects with few calls (`survey`): a
HeadObject each when there are only a few, else ListObjectsV2 pages (1,000 objects a page)
over their common prefix, stopping once all are seen; many pages are read in up to four
ranges at once (`start-after` the range before).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TypeVar

import httpx

from voxform.endpoints import is_loopback
from voxform.errors import FatalError, ItemError, RetryableError
from voxform.ice.wire import AudioRequest
from voxform.manifest.model import Target
from voxform.oss.documents import MAX_DELETE_KEYS, ObjectInfo
from voxform.providers.credentials import load_credentials
from voxform.providers.ice import ice_endpoint
from voxform.providers.oss_client import OssClient
from voxform.providers.oss_endpoint import ENV_ENDPOINT, OssEndpoint, oss_endpoint_for
from voxform.providers.oss_errors import ObjectConflict, ObjectMissing
from voxform.providers.protocol import (
    Deleted,
    Resources,
    Storage,
    StorageOperation,
    StoredPage,
)
from voxform.state.outputs import OSS_SCHEME, ObjectDigest, Output, object_digest, object_url

DEFAULT_REGION = "cn-shanghai"  # ICE's, when a target names none
T = TypeVar("T")
HEADS_AT_MOST = 3  # more objects than this are read by listing their common prefix
PAGE_SIZE = 1000  # objects a ListObjectsV2 page holds at most
STREAMS = 4  # listings of one survey read at once


def audio_key(request: AudioRequest) -> str:
    """The key ICE writes a job's audio to: its OutputConfig object and the format's
    extension, which the service appends."""
    return request.audio_key()


class OssStorage:
    """One bucket: what the lockfile names `oss://BUCKET/KEY`."""

    operations: Mapping[StorageOperation, str] = {
        "head": "HeadObject",
        "list": "ListObjectsV2",
        "copy": "CopyObject",
        "delete": "DeleteMultipleObjects",
        "get": "GetObject",
    }

    def __init__(self, client: OssClient) -> None:
        self.client = client
        self.bucket = client.bucket
        self._reached = False

    def __enter__(self) -> OssStorage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @classmethod
    def for_target(cls, target: Target, resources: Resources) -> OssStorage:
        """The bucket of an ICE target (at `bucket_endpoint`), on the run's ICE credentials."""
        credentials = resources.shared(
            "ice-credentials", lambda: load_credentials(resources.profile)
        )
        return cls(OssClient(bucket_endpoint(target), credentials))

    def audio_name(self, request: AudioRequest) -> str:
        return object_url(request.bucket or self.bucket, audio_key(request))

    def head(self, name: str) -> ObjectDigest | None:
        try:
            return _digest(self._reach(lambda: self.client.head_object(self._key(name))))
        except ObjectMissing:
            return None

    def list(self, prefix: str, page: str | None = None, *, after: str | None = None) -> StoredPage:
        own = f"{OSS_SCHEME}{self.bucket}/"
        if not prefix.startswith(own):
            return StoredPage((), None)  # another bucket's names: none of them are here
        start = after[len(own) :] if after is not None and after.startswith(own) else None
        listed = self._reach(
            lambda: self.client.list_page(prefix[len(own) :], page, start_after=start)
        )
        outputs = tuple((own + o.key, _digest(o)) for o in listed.objects)
        return StoredPage(outputs, listed.next_token)

    def copy_if_match(self, source: str, expected: Output, destination: str) -> ObjectDigest:
        if not isinstance(expected, ObjectDigest):
            raise ItemError(f"{source} is recorded as a project file, not an object")
        written = self.client.copy_object(
            self._key(source), self._key(destination), if_match=expected.etag
        )
        return ObjectDigest(written.etag, expected.size, written.crc64)

    def delete_many_if_match(self, recorded: Mapping[str, Output]) -> Deleted:
        """The objects still as recorded (ETag and size, and CRC-64 when both know it) are
        deleted, up to 1,000 a call. OSS has no conditional delete: an object replaced
        between the look and the delete (one call apart) is deleted too."""
        now = survey(self, list(recorded))
        doomed: list[str] = []
        kept: list[tuple[str, str]] = []
        for name, expected in recorded.items():
            found = now.get(name)
            if found is None:
                continue  # already gone: nothing to do, nothing to keep
            if not isinstance(expected, ObjectDigest) or not isinstance(found, ObjectDigest):
                kept.append((name, "not an object voxform recorded"))
            elif not expected.same_object(found):
                kept.append((name, "changed since voxform wrote it (not the ETag recorded)"))
            else:
                doomed.append(name)
        for start in range(0, len(doomed), MAX_DELETE_KEYS):
            batch = doomed[start : start + MAX_DELETE_KEYS]
            self.client.delete_objects([self._key(n) for n in batch])
        return Deleted(tuple(doomed), tuple(kept))

    def get(self, name: str, expected: Output | None, destination: Path) -> ObjectDigest:
        info = self.client.get_object(self._key(name), destination)
        found = _digest(info)
        if isinstance(expected, ObjectDigest) and not expected.same_object(found):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(destination)
            raise ObjectConflict(
                f"{name} is no longer the object recorded (ETag {found.etag}, not"
                f" {expected.etag}); the download was not kept",
                code="PreconditionFailed",
            )
        return found

    def close(self) -> None:
        self.client.close()

    def _reach(self, call: Callable[[], T]) -> T:
        """`call`; an endpoint never reached stops the run at once (no backoff for
        minutes against an address that is wrong)."""
        try:
            value = call()
        except RetryableError as error:
            unreachable = isinstance(error.__cause__, httpx.ConnectError)
            if not self._reached and (unreachable or error.code.startswith("HTTP")):
                what = "cannot reach" if unreachable else "something that is not OSS answers at"
                raise FatalError(
                    f"{what} the OSS endpoint {self.client.endpoint.shown}: check the target's"
                    " region or oss_endpoint (or VOXFORM_OSS_ENDPOINT) and the network",
                    code="EndpointUnreachable",
                ) from None
            raise
        self._reached = True
        return value

    def _key(self, name: str) -> str:
        own = f"{OSS_SCHEME}{self.bucket}/"
        if not name.startswith(own) or len(name) == len(own):
            raise ItemError(f"{name!r} is not an object of bucket {self.bucket}")
        return name[len(own) :]


def survey(
    storage: Storage, names: Collection[str], heads_at_most: int = HEADS_AT_MOST
) -> dict[str, Output | None]:
    """What each of `names` holds now (None: nothing), with few calls: a head each for up
    to `heads_at_most` names, else pages of their common prefix until every name is seen.
    Many pages are read by up to STREAMS listings at once, each over a range of the names
    in OSS's order (starting after the name that ends the range before it), so that the
    service answers one while the page of another is read."""
    if len(names) <= heads_at_most:
        return {name: storage.head(name) for name in names}
    ordered = sorted(set(names))
    prefix = _common_prefix(ordered[0], ordered[-1])
    pages = -(-len(ordered) // PAGE_SIZE)
    size = -(-pages // min(STREAMS, pages)) * PAGE_SIZE  # whole pages of names each
    ranges = [ordered[start : start + size] for start in range(0, len(ordered), size)]
    found: dict[str, Output | None] = {}
    if len(ranges) == 1:
        found.update(_listed(storage, prefix, None, ranges[0], threading.Event()))
    else:
        _read_ranges(storage, prefix, ranges, found)
    return {name: found.get(name) for name in names}


def _read_ranges(
    storage: Storage, prefix: str, ranges: list[list[str]], found: dict[str, Output | None]
) -> None:
    """Each range of names listed on a thread of its own, from after the last name of the
    range before it; the first error raised, once every listing has stopped (the others
    stop at their next page)."""
    failed = threading.Event()
    errors: list[BaseException] = []

    def read(after: str | None, wanted: list[str]) -> None:
        try:
            listed = _listed(storage, prefix, after, wanted, failed)
        except BaseException as error:  # raised by the caller's thread, below
            errors.append(error)
            failed.set()
            return
        found.update(listed)  # one call: atomic under the GIL

    threads = [
        threading.Thread(
            target=read, args=(None if n == 0 else ranges[n - 1][-1], wanted), daemon=True
        )
        for n, wanted in enumerate(ranges)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _listed(
    storage: Storage, prefix: str, after: str | None, ordered: list[str], failed: threading.Event
) -> dict[str, Output | None]:
    """What the pages under `prefix` (from after `after`) say of `ordered` (names in OSS's
    order): read until each is seen, the listing passes the last of them or ends."""
    wanted = set(ordered)
    last = ordered[-1]
    found: dict[str, Output | None] = {}
    page: str | None = None
    while not failed.is_set():
        listed = storage.list(prefix, page, after=after if page is None else None)
        found.update((n, o) for n, o in listed.outputs if n in wanted)
        if len(found) == len(wanted) or listed.next_page is None:
            break
        if listed.outputs and listed.outputs[-1][0] >= last:
            break  # OSS lists in order: what is not seen by now is not there
        page = listed.next_page
    return found


def bucket_endpoint(target: Target) -> OssEndpoint:
    """Where an ICE target's bucket is reached, for every command that reads or writes it:
    its `oss_endpoint:`, else VOXFORM_OSS_ENDPOINT, else the ICE endpoint when that is on
    this machine (the emulator), else its region's."""
    return oss_endpoint_for(
        target.bucket or "",
        target.region or DEFAULT_REGION,
        target.oss_endpoint or os.environ.get(ENV_ENDPOINT) or _emulator(target),
        insecure=target.insecure,
    )


def _emulator(target: Target) -> str | None:
    """The ICE endpoint when it is on this machine: an emulator, which serves the bucket on
    the same address (a real ICE endpoint never is)."""
    endpoint = ice_endpoint(target)
    if "://" not in endpoint:
        return None
    try:
        host = httpx.URL(endpoint).host
    except (httpx.InvalidURL, UnicodeError):
        return None
    return endpoint if is_loopback(host) else None


def _common_prefix(first: str, last: str) -> str:
    """The longest prefix of two strings (of the least and greatest name: of them all)."""
    size = 0
    for a, b in zip(first, last, strict=False):
        if a != b:
            break
        size += 1
    return first[:size]


def _digest(info: ObjectInfo) -> ObjectDigest:
    return object_digest(info.etag, info.size, info.crc64)  # size -1: not told
