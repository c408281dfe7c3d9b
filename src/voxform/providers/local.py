"""The local provider: espeak-ng on this machine, audio files under the target's path."""

from __future__ import annotations

import threading
from pathlib import Path

from voxform.errors import ItemError
from voxform.paths import PathEscapeError, inside, relative_to_root
from voxform.providers.base import AudioRequest, JobResult
from voxform.providers.espeak import ENGINE_VERSION, LocalEngine
from voxform.state.atomic import write_atomic


class LocalProvider:
    """Synthesizes with the embedded engine; a job is done when submit returns."""

    kind = "local"
    durable_jobs = False

    def __init__(self, root: Path, path: str, engine: LocalEngine) -> None:
        self.root = root.resolve()
        self.path = path
        self.engine = engine
        self._results: dict[str, JobResult] = {}
        self._guard = threading.Lock()

    def engine_version(self) -> str | None:
        return ENGINE_VERSION

    def output_path(self, request: AudioRequest) -> Path:
        """Where the audio file of `request` goes, always inside the project."""
        relative = f"{self.path.rstrip('/')}/{request.object_key}.{request.editing.format}"
        try:
            return inside(self.root, relative)
        except PathEscapeError as exc:
            raise ItemError(f"output {exc}", code="InvalidOutput") from exc

    def submit(self, request: AudioRequest) -> str:
        synthesis = self.engine.synthesize_config(
            request.input, request.editing, request.sample_rate
        )
        target = self.output_path(request)
        write_atomic(target, synthesis.audio)
        result = JobResult(
            state="finished",
            url=relative_to_root(self.root, target),
            duration=round(synthesis.duration, 3),
            segments=synthesis.segments,
        )
        job_id = f"local:{request.item_id}"
        with self._guard:
            self._results[job_id] = result
        return job_id

    def wait(self, job_id: str, request: AudioRequest) -> JobResult:
        with self._guard:
            result = self._results.pop(job_id, None)
        if result is None:
            # A local job never outlives its process; synthesize again.
            return self.wait(self.submit(request), request)
        return result

    def close(self) -> None:
        """The engine is shared and closed by whoever opened it."""
