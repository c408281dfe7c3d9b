"""The seam between the executor and the text-to-speech backends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal, Protocol

AudioFormat = Literal["mp3", "wav", "pcm"]
JobState = Literal["finished", "failed"]
SAMPLE_RATES = (8000, 16000, 24000, 48000)


@dataclass(frozen=True)
class EditingConfig:
    """A voice profile as ICE's EditingConfig, in canonical form."""

    voice: str | None
    customized_voice: str | None
    format: AudioFormat
    volume: int = 50
    speech_rate: int = 0
    pitch_rate: int = 0

    def to_wire(self) -> dict[str, object]:
        """The EditingConfig object as the service expects it."""
        wire: dict[str, object] = {}
        if self.voice is not None:
            wire["voice"] = self.voice
        if self.customized_voice is not None:
            wire["customizedVoice"] = self.customized_voice
        wire.update(
            format=self.format.upper(),
            volume=self.volume,
            speech_rate=self.speech_rate,
            pitch_rate=self.pitch_rate,
        )
        return wire

    def to_json(self) -> str:
        return json.dumps(self.to_wire(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class AudioRequest:
    """Everything one SubmitAudioProduceJob call carries, provider-neutral."""

    item_id: str
    input: str  # the SSML sent as InputConfig
    editing: EditingConfig
    sample_rate: int
    object_key: str  # without extension; the service appends it
    bucket: str | None = None
    title: str | None = None
    description: str | None = None
    user_data: str | None = None


@dataclass(frozen=True)
class Segment:
    """A timed stretch of speech, in seconds from the start of the audio."""

    content: str
    start: float
    end: float


@dataclass(frozen=True)
class JobResult:
    """What a finished or failed job left behind."""

    state: JobState
    job_id: str | None = None
    media_id: str | None = None
    url: str | None = None
    duration: float | None = None
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    error_code: str | None = None
    error_message: str | None = None
    subtitles: dict[str, str] | None = None


class Provider(Protocol):
    """A text-to-speech backend. Errors raised are voxform.errors.ProviderError subclasses."""

    kind: str

    def engine_version(self) -> str | None:
        """A version string that changes whenever the same request would give other audio."""

    def submit(self, request: AudioRequest) -> str:
        """Start producing one audio object; return the job id."""

    def wait(self, job_id: str, request: AudioRequest) -> JobResult:
        """Block until the job has finished or failed."""

    def close(self) -> None:
        """Release processes, connections and files."""
