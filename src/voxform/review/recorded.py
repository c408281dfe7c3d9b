"""The `now` take: the audio the lockfile records for an item, as it can be heard today.

A local target's file is put beside the page (hard-linked; copied where a link cannot be
made) when its bytes are still those recorded; an
ICE target's object is linked by a presigned GET URL (its duration and peaks read once from
its bytes, cached by ETag under .voxform/). When neither can be had, the caller offers a
preview of the recorded render instead, with the note said here.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from voxform.errors import PathEscapeError, VoxformError
from voxform.manifest.model import Target
from voxform.paths import inside
from voxform.review.audio import MIMES, Levels, UndecodableAudio, levels
from voxform.review.folder import PageFiles
from voxform.review.model import Take
from voxform.review.records import Records
from voxform.state.lockfile import LockEntry
from voxform.state.outputs import files_of, objects_of, split_object_url

if TYPE_CHECKING:
    from voxform.providers.oss_client import OssClient

LEVELS = "review-levels"  # under .voxform/: levels of recorded files and objects


@dataclass(frozen=True, slots=True)
class Missing:
    """Why there is no recorded take to play (the page then offers a preview)."""

    note: str


class LevelsCache:
    """Levels of recorded audio by a name that changes with its bytes (a file's SHA-256,
    an object's ETag), in one index (records.py): a record that does not read is read again
    from the audio."""

    def __init__(self, folder: Path, root: Path) -> None:
        self.records = Records(folder, root)

    def get(self, name: str) -> Levels | None:
        found = levels_of(self.records.get(name))
        if found is not None and found.duration >= 0 and all(0 <= p <= 1 for p in found.peaks):
            return found
        return None

    def put(self, name: str, found: Levels) -> None:
        self.records.put(name, {"duration": found.duration, "peaks": list(found.peaks)})

    def flush(self) -> None:
        self.records.flush()


def levels_of(record: Mapping[str, object] | None) -> Levels | None:
    """The levels a cache record states, or None when it does not read as levels."""
    if record is None:
        return None
    duration, peaks = record.get("duration"), record.get("peaks")
    if not isinstance(duration, int | float) or not isinstance(peaks, list):
        return None
    if not all(isinstance(p, int | float) for p in peaks):
        return None
    return Levels(float(duration), tuple(float(p) for p in peaks))


def local_take(
    root: Path, entry: LockEntry, files: PageFiles, cache: LevelsCache
) -> Take | Missing:
    """The recorded file of a local target's item, linked (or copied) beside the page, with
    its subtitles; Missing when it is not the bytes the lockfile records."""
    recorded = files_of(entry.outputs)
    if not entry.url or entry.url not in recorded:
        return Missing("the lockfile records no audio file for it")
    ext = entry.url.rpartition(".")[2]
    if ext not in MIMES:
        return Missing(f"recorded as {ext.upper()}, which a browser cannot play")
    try:
        path = inside(root, entry.url)
        data = path.read_bytes()
    except (OSError, PathEscapeError) as exc:
        return Missing(f"recorded file {entry.url} cannot be read ({_why(exc)})")
    sha = hashlib.sha256(data).hexdigest()
    if sha != recorded[entry.url].sha256:
        return Missing(f"recorded file {entry.url} has changed since it was made")
    found = cache.get(f"{sha}.{ext}")
    if found is None:
        try:
            found = levels(data, ext)
        except UndecodableAudio as exc:
            return Missing(f"recorded file {entry.url}: {exc}")
        cache.put(f"{sha}.{ext}", found)
    subtitles = None
    vtt = (entry.subtitles or {}).get("vtt")
    if vtt is not None and vtt in recorded:
        with contextlib.suppress(OSError, PathEscapeError):
            vtt_path = inside(root, vtt)
            text = vtt_path.read_bytes()
            if hashlib.sha256(text).hexdigest() == recorded[vtt].sha256:
                subtitles = files.put(text, "vtt", source=vtt_path)
    src = files.put(data, ext, source=path, sha256=sha)
    return Take("recorded", src, MIMES[ext], found.duration, found.peaks, subtitles)


class Objects:
    """Presigned URLs of the objects the lockfile records, one client per bucket, opened on
    first use; levels read from each object once and cached by its ETag."""

    def __init__(
        self,
        targets: Mapping[str, Target],
        cache: LevelsCache,
        *,
        expires: int,
        profile: str | None,
        now: datetime | None = None,
    ) -> None:
        self.targets = targets
        self.cache = cache
        self.expires = expires
        self.profile = profile
        self.origins: set[str] = set()
        self.fetched = 0  # objects read for their levels in this run
        self._clients: dict[str, OssClient | Missing] = {}
        self._opening = threading.Lock()
        self._stack = contextlib.ExitStack()
        start = now or datetime.now(UTC)
        self.expiry = (start + timedelta(seconds=expires)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def __enter__(self) -> Objects:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def take(self, entry: LockEntry) -> Take | Missing:
        """The recorded object of `entry` by a presigned URL, or why there is none."""
        objects = objects_of(entry.outputs)
        audio = [(n, d) for n, d in objects.items() if n.rpartition(".")[2] in MIMES]
        if not audio:
            return Missing("the lockfile records no audio object for it")
        name, recorded = audio[0]
        place = split_object_url(name)
        if place is None:
            return Missing(f"{name} is not an object OSS can hold")
        bucket, key = place
        client = self._client(bucket)
        if isinstance(client, Missing):
            return client
        ext = key.rpartition(".")[2]
        try:
            found = self._levels(client, bucket, key, recorded.etag, ext)
            link = client.presigned_get_url(key, expires=self.expires)
        except (VoxformError, UndecodableAudio) as exc:
            return Missing(f"{name} cannot be read: {exc}")
        parts = urlsplit(link)
        with self._opening:
            self.origins.add(f"{parts.scheme}://{parts.netloc}")
        return Take("recorded", link, MIMES[ext], found.duration, found.peaks, expires=self.expiry)

    def _client(self, bucket: str) -> OssClient | Missing:
        with self._opening:  # takes are made in parallel; each bucket's client opens once
            if bucket not in self._clients:
                self._clients[bucket] = self._open(bucket)
            return self._clients[bucket]

    def _open(self, bucket: str) -> OssClient | Missing:
        target = next(
            (t for t in self.targets.values() if t.provider == "ice" and t.bucket == bucket),
            None,
        )
        opened: OssClient | Missing
        if target is None:
            opened = Missing(f"no ice target of the project names the bucket {bucket!r}")
        else:
            from voxform.providers.credentials import load_credentials
            from voxform.pull.run import client_for

            try:
                opened = self._stack.enter_context(
                    client_for(target, load_credentials(self.profile))
                )
            except VoxformError as exc:
                opened = Missing(f"the bucket {bucket!r} cannot be reached ({exc})")
        return opened

    def _levels(self, client: OssClient, bucket: str, key: str, etag: str, ext: str) -> Levels:
        """Duration and peaks of the object, from the cache when its ETag was read before."""
        name = hashlib.sha256(f"{bucket}\0{key}\0{etag}".encode()).hexdigest()
        found = self.cache.get(name)
        if found is not None:
            return found
        sink = io.BytesIO()
        info = client.read_object(key, sink)
        found = levels(sink.getvalue(), ext)
        with self._opening:
            self.fetched += 1
        if info.etag == etag:  # the object is still the one recorded: its levels keep
            self.cache.put(name, found)
        return found


def _why(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc)
