"""SubmitAudioProduceJob on the wire: the request's parts as the service spells them.

The provider sends these documents, `voxform render` shows them and the emulator reads them
back, so each is built here only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final, Literal

API_VERSION: Final = "2020-11-09"
SUBMIT: Final = "SubmitAudioProduceJob"
GET_JOB: Final = "GetSmartHandleJob"
LIST_JOBS: Final = "ListSmartJobs"
JOB_TYPE: Final = "TextToSpeech"  # ListSmartJobs' JobType of audio production
FINAL_STATES: Final = ("Finished", "Failed")

# voxform's idempotency token rides in UserData beside the manifest's own keys; a manifest's
# user_data must leave room for it (`{"voxform":"<20 hex>"}` and a comma).
TOKEN_KEY: Final = "voxform"
TOKEN_ROOM: Final = 40

AudioFormat = Literal["mp3", "wav", "pcm"]
FORMATS: Final[tuple[AudioFormat, ...]] = ("mp3", "wav", "pcm")


def compact_json(value: object) -> str:
    """JSON as the service's string parameters carry it: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
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
        return compact_json(self.to_wire())


@dataclass(frozen=True, slots=True)
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

    def audio_key(self) -> str:
        """The key the service writes the audio to: the OutputConfig object and the
        format's extension, which the service appends."""
        return f"{self.object_key}.{self.editing.format}"

    def output_config(self) -> dict[str, object]:
        """OutputConfig: where the service writes the audio."""
        return {"bucket": self.bucket, "object": self.object_key}

    def output_config_json(self) -> str:
        """OutputConfig as the string parameter carries it."""
        return json.dumps(self.output_config(), separators=(",", ":"), ensure_ascii=False)

    def document(self) -> dict[str, object]:
        """The call as a person reads it (`voxform render`): configs as objects, not strings."""
        return {
            "EditingConfig": self.editing.to_wire(),
            "InputConfig": self.input,
            "OutputConfig": self.output_config(),
            "SampleRate": self.sample_rate,
            "Title": self.title,
            "Description": self.description,
            "UserData": self.user_data,
        }


def with_token(user_data: str | None, token: str) -> str:
    """UserData (a JSON object string, or None) with the submission token added."""
    document = json.loads(user_data) if user_data else {}
    document[TOKEN_KEY] = token
    return compact_json(document)


def token_of(user_data: object) -> str | None:
    """The submission token in a UserData string as the service returns it, if any."""
    if not isinstance(user_data, str) or TOKEN_KEY not in user_data:
        return None
    try:
        document = json.loads(user_data)
    except ValueError:
        return None
    token = document.get(TOKEN_KEY) if isinstance(document, dict) else None
    return token if isinstance(token, str) else None


# No one job's audio lasts a day; a time past it is noise (and would overflow a subtitle stamp).
MAX_SEGMENT_SECONDS: Final = 86_400.0


@dataclass(frozen=True)
class Segment:
    """A timed stretch of speech, in seconds from the start of the audio."""

    content: str
    start: float
    end: float


def ai_result(segments: tuple[Segment, ...] | list[Segment]) -> str:
    """Segments as GetSmartHandleJob's AiResult: a JSON string of [{content, from, to}]."""
    timings = [{"content": s.content, "from": s.start, "to": s.end} for s in segments]
    return json.dumps(timings, ensure_ascii=False)


_AI_RESULT = json.JSONDecoder(parse_int=float)


def parse_ai_result(value: object) -> tuple[Segment, ...]:
    """AiResult (a JSON string of [{content, from, to}]) as segments; empty when absent.

    A segment whose times make no sense (not numbers, not finite, negative, ending before
    they start, or past MAX_SEGMENT_SECONDS) is left out, and an AiResult that cannot be
    read at all gives none: timings are metadata of audio the service has made and billed,
    so they never fail an item (failing it would pay for the same audio again)."""
    if not isinstance(value, str) or not value:
        return ()
    try:
        # Integers as floats: a 5000-digit time is infinite (and left out), not a ValueError.
        # (json.loads(value, parse_int=float) with its decoder made once, not per answer)
        document = _AI_RESULT.decode(value)
    except (ValueError, RecursionError):
        return ()
    if isinstance(document, dict):  # some answers wrap the list
        document = next((v for v in document.values() if isinstance(v, list)), [])
    segments = []
    for entry in document if isinstance(document, list) else []:
        if not isinstance(entry, dict):
            continue
        start, end = _seconds(entry.get("from")), _seconds(entry.get("to"))
        if start is not None and end is not None and start <= end:
            content = entry.get("content")
            segments.append(Segment(content if isinstance(content, str) else "", start, end))
    return tuple(segments)


def _seconds(value: object) -> float | None:
    """A time in an AiResult (a number, or a number in a string) when it makes sense."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= MAX_SEGMENT_SECONDS else None  # NaN fails both
