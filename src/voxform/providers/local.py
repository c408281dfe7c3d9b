"""The local provider: espeak-ng on this machine, audio files under the target's path."""

from __future__ import annotations

import os
import posixpath
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from voxform.errors import ItemError, PathEscapeError
from voxform.files import UnsafeFileError, check_writable, write_atomic
from voxform.ice.wire import AudioRequest
from voxform.manifest.model import Target
from voxform.paths import below, relative_to_root
from voxform.providers.protocol import JobPage, JobResult, Operation, Resources
from voxform.state.outputs import digest_of, remember_written

if TYPE_CHECKING:
    from voxform.engine.client import EspeakEngine

DEFAULT_PATH = "build/audio"


class LocalProvider:
    """Synthesizes with the embedded engine; a job is done when submit returns."""

    kind = "local"
    durable_jobs = False
    files_in_project = True
    billed = False
    operations: Mapping[Operation, str] = {}

    def __init__(self, root: Path, path: str, engine: EspeakEngine) -> None:
        self.root = root.resolve()
        self.path = path
        self.engine = engine
        self._results: dict[str, JobResult] = {}
        self._guard = threading.Lock()

    @classmethod
    def for_target(cls, target: Target, resources: Resources) -> LocalProvider:
        from voxform.engine.client import EspeakEngine  # here: validate needs no engine

        engine = resources.shared("espeak-engine", EspeakEngine)
        return cls(resources.root, target.path or DEFAULT_PATH, engine)

    @classmethod
    def engine_version(cls) -> str | None:
        from voxform.engine.libespeak import engine_version  # here: validate needs no engine

        return engine_version()

    @classmethod
    def subtitle_dir(cls, target: Target) -> str:
        """Beside the audio."""
        return target.path or DEFAULT_PATH

    @classmethod
    def output_files(cls, target: Target, request: AudioRequest) -> tuple[str, ...]:
        """The audio, and its subtitles beside it."""
        base = f"{cls.subtitle_dir(target).rstrip('/')}/{request.object_key}"
        return (audio_file(target.path or DEFAULT_PATH, request), f"{base}.vtt", f"{base}.srt")

    @classmethod
    def describe(cls, target: Target, request: AudioRequest) -> dict[str, object]:
        """The local engine's input: SSML, voice settings and the file it writes."""
        return {
            "engine": "espeak-ng (local)",
            "ssml": request.input,
            "voice": request.editing.to_wire(),
            "sample_rate": request.sample_rate,
            "output": audio_file(target.path or DEFAULT_PATH, request),
        }

    def output_path(self, request: AudioRequest) -> Path:
        """Where the audio file of `request` goes: below the target's path, unresolved, so
        that writing it can refuse a symlink on the way."""
        try:
            return below(self.root, audio_file(self.path, request))
        except PathEscapeError as exc:
            raise ItemError(f"output {exc}", code="InvalidOutput") from exc

    def submit(self, request: AudioRequest, token: str) -> str:
        target = self.output_path(request)
        try:
            # the subtitles go beside the audio: refuse before writing any of the three
            for path in (target, target.with_suffix(".vtt"), target.with_suffix(".srt")):
                check_writable(path, root=self.root)
            synthesis = self.engine.synthesize_config(
                request.input, request.editing, request.sample_rate
            )
            stats: dict[str, os.stat_result] = {}
            write_atomic(target, synthesis.audio, root=self.root, stats=stats)
        except UnsafeFileError as exc:
            raise ItemError(str(exc), code="UnsafeOutput") from exc
        url = relative_to_root(self.root, target)
        written = digest_of(synthesis.audio)
        remember_written(self.root, url, stats[target.name], written)  # for the stat cache
        result = JobResult(
            state="finished",
            url=url,
            duration=round(synthesis.duration, 3),
            segments=synthesis.segments,
            outputs={url: written},
        )
        job_id = f"local:{request.item_id}"
        with self._guard:
            self._results[job_id] = result
        return job_id

    def check(self, job_id: str, request: AudioRequest) -> JobResult | None:
        with self._guard:
            result = self._results.pop(job_id, None)
        if result is None:
            # A local job never outlives its process; synthesize again.
            return self.check(self.submit(request, job_id), request)
        return result

    def list_jobs(self, page: str | None) -> JobPage:
        """Local jobs are never lost: there is nothing to look up."""
        return JobPage((), None)

    def close(self) -> None:
        """The engine is shared and closed by whoever opened it."""


def audio_file(path: str, request: AudioRequest) -> str:
    """The project-relative audio file of `request` under a target's `path` (which validate
    kept inside the project), as written and as `render` shows it."""
    return f"{posixpath.normpath(path)}/{request.object_key}.{request.editing.format}"
