"""Previews: an item's SSML spoken by the local engine, as MP3, in parallel, cached under
`.voxform/previews/` by what the audio is (the same digest is never synthesized twice).

A cache entry is the MP3 and a small JSON record in the folder's index (records.py: the
MP3's SHA-256, its duration, peaks and sentence timings): an entry whose record does not
read or whose audio is not the bytes it records is made again, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from voxform.errors import ItemError
from voxform.files import write_atomic_files
from voxform.ice.wire import EditingConfig, Segment
from voxform.review.audio import Levels
from voxform.review.recorded import levels_of
from voxform.review.records import Records

if TYPE_CHECKING:
    from voxform.engine.client import EspeakEngine

PREVIEWS = "previews"  # the folder under .voxform/
FORMAT: Final = "mp3"
# How a preview is made (part of its cache key): spoken at half the engine's rate (11,025
# Hz, engine.audio.halve), not resampled to the item's, and encoded as a draft
# (engine.audio.encode: LAME quality 7 at 32 kbit/s), its duration and level strip taken
# from the samples it encodes, all in the engine's processes: a preview is for hearing what
# is said, not for keeping, and resampling, a kept file's encoding and decoding it again
# cost more than espeak-ng itself.
ENCODING: Final = "draft mp3 at half the engine's rate, levels from its samples"


@dataclass(frozen=True, slots=True)
class Speech:
    """What to preview: SSML in a voice."""

    ssml: str
    editing: EditingConfig


@dataclass(frozen=True, slots=True)
class Preview:
    """A preview's MP3 and what the page states of it."""

    audio: bytes
    sha256: str  # of the audio
    levels: Levels
    segments: tuple[Segment, ...]
    path: Path | None = None  # the cache's file of the audio, when it is there


def preview_key(speech: Speech, engine_version: str) -> str:
    """The cache key of a preview: a digest of everything that changes its audio."""
    document = {
        "editing": replace(speech.editing, format=FORMAT).to_wire(),
        "encoding": ENCODING,
        "engine": engine_version,
        "ssml": speech.ssml,
    }
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class Previewer:
    """Makes previews with one engine, reading and filling the cache in `folder`."""

    def __init__(
        self,
        folder: Path,
        root: Path,
        engine: Callable[[], EspeakEngine],
        engine_version: str,
        workers: int,
    ) -> None:
        self.folder = folder
        self.root = root  # writes below it refuse a symlink on the way
        self._engine_factory = engine
        self._engine: EspeakEngine | None = None
        self._opening = threading.Lock()
        self.engine_version = engine_version
        self.workers = max(1, workers)
        # Threads that wait on the engine: twice its workers, so that the next request is
        # queued in the engine when a child finishes (no core idles while this process,
        # busy with other work, gets round to asking again).
        self.threads = 2 * self.workers
        self.synthesized = 0  # previews made by the engine in this run
        self.cached = 0  # previews read from the cache
        self._counting = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._records = Records(folder, root)  # the previews' records, by key
        self._made: dict[Speech, Future[Preview | ItemError]] = {}

    def warm(self) -> None:
        """Start the engine now: its start-up then overlaps the caller's planning (an engine
        that is never asked is stopped at once on close)."""
        self._open().start()

    def start(
        self, speeches: Iterable[Speech], then: Callable[[Preview], object] | None = None
    ) -> None:
        """Begin making a preview (or finding it cached) of each speech not begun yet, in
        parallel, while the caller goes on with other work; `then` is called with each
        preview as it is made (in the thread that made it)."""
        with self._counting:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="preview")
            for speech in speeches:
                if speech not in self._made:
                    self._made[speech] = self._pool.submit(self._then, speech, then)

    def _then(
        self, speech: Speech, then: Callable[[Preview], object] | None
    ) -> Preview | ItemError:
        made = self._one(speech)
        if then is not None and isinstance(made, Preview):
            then(made)
        return made

    def results(self) -> dict[Speech, Preview | ItemError]:
        """Every preview begun (or why there is none), once all are made."""
        with self._counting:
            made = dict(self._made)
        return {speech: future.result() for speech, future in made.items()}

    def make_all(self, speeches: Iterable[Speech]) -> dict[Speech, Preview | ItemError]:
        """A preview (or why there is none) of each distinct speech, made in parallel."""
        wanted = list(dict.fromkeys(speeches))
        self.start(wanted)
        made = self.results()
        return {speech: made[speech] for speech in wanted}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._engine is not None:
            self._engine.close()
        self._records.flush()

    def _one(self, speech: Speech) -> Preview | ItemError:
        key = preview_key(speech, self.engine_version)
        found = self._read(key)
        if found is not None:
            with self._counting:
                self.cached += 1
            return found
        from voxform.engine.client import DRAFT_RATE

        try:  # in the engine's processes, at half its rate, a quick MP3: see ENCODING
            synthesis = self._open().synthesize_config(
                speech.ssml, replace(speech.editing, format=FORMAT), DRAFT_RATE, draft=True
            )
        except ItemError as error:
            return error
        with self._counting:
            self.synthesized += 1
        audio = synthesis.audio
        assert synthesis.levels is not None  # a draft MP3 always has them
        preview = Preview(
            audio, hashlib.sha256(audio).hexdigest(), synthesis.levels, synthesis.segments
        )
        if self._write(key, preview):
            preview = replace(preview, path=self.folder / f"{key}.{FORMAT}")
        return preview

    def _open(self) -> EspeakEngine:
        with self._opening:
            if self._engine is None:
                self._engine = self._engine_factory()
            return self._engine

    def _read(self, key: str) -> Preview | None:
        """The cached preview of `key`, or None when there is none or it is damaged."""
        record = self._records.get(key)
        found = levels_of(record)
        if record is None or found is None:
            return None
        try:
            audio = (self.folder / f"{key}.{FORMAT}").read_bytes()
            sha = hashlib.sha256(audio).hexdigest()
            if record.get("sha256") != sha or not isinstance(record["segments"], list):
                return None
            segments = tuple(
                Segment(str(s["content"]), float(s["start"]), float(s["end"]))
                for s in record["segments"]
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return Preview(audio, sha, found, segments, self.folder / f"{key}.{FORMAT}")

    def _write(self, key: str, preview: Preview) -> bool:
        """Cache `preview`: its audio, then its record (in the index, written at `flush`);
        whether the audio was written."""
        # a cache that cannot be written costs a synthesis next time, nothing more
        try:
            write_atomic_files(
                self.folder, {f"{key}.{FORMAT}": preview.audio}, durable=False, root=self.root
            )
        except OSError:
            return False
        record: dict[str, object] = {
            "sha256": preview.sha256,
            "duration": preview.levels.duration,
            "peaks": list(preview.levels.peaks),
            "segments": [
                {"content": s.content, "start": s.start, "end": s.end} for s in preview.segments
            ],
        }
        self._records.put(key, record)
        return True


def vtt(segments: Sequence[Segment]) -> str:
    """The WebVTT subtitles of a preview, one cue per sentence."""
    from voxform.apply.subtitles import to_vtt

    return to_vtt(segments)
