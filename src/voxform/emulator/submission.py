"""A SubmitAudioProduceJob call's parameters, checked the way ICE checks them.

The emulator is only useful if it refuses what the real service refuses, with the same
status, error code and message, so every check and its wording lives here; the limits
themselves come from `voxform.ice.limits`, the document shapes from `voxform.ice.wire`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from voxform.errors import VoxformError
from voxform.ice.limits import (
    DEFAULT_SAMPLE_RATE,
    DEFAULT_VOLUME,
    DESCRIPTION_BYTES,
    RATE,
    SAMPLE_RATES,
    TITLE_BYTES,
    USER_DATA_BYTES,
    VOLUME,
    spell,
    spell_rates,
    within,
)
from voxform.ice.wire import FORMATS, AudioFormat, EditingConfig
from voxform.oss.names import BUCKET, MAX_KEY_BYTES

_SAMPLE_RATE = re.compile(
    r"""^\s*(?:<\?xml[^>]*>\s*)?<speak\b[^>]*?\ssampleRate\s*=\s*["']([^"']*)["']"""
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ApiError(VoxformError):
    """An error answer: HTTP status, ICE error code, message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    """The service's answer to a parameter it cannot accept: 400 InvalidParameter."""
    return ApiError(400, "InvalidParameter", message)


def required(params: Mapping[str, str], name: str) -> str:
    """A parameter that must be present and not empty (`Missing<Name>` otherwise)."""
    value = params.get(name, "")
    if not value:
        raise ApiError(400, f"Missing{name}", f"{name} is mandatory for this action.")
    return value


@dataclass(frozen=True)
class Submission:
    """A SubmitAudioProduceJob call whose parameters passed every check."""

    input: str
    editing: EditingConfig
    sample_rate: int
    bucket: str
    object: str
    title: str
    description: str
    user_data: str
    editing_json: str = ""  # EditingConfig as sent, which ListSmartJobs gives back

    @property
    def key(self) -> str:
        """The stored object's key, extension included (the service appends it)."""
        return f"{self.bucket}/{self.object}.{self.editing.format}"


def parse_submission(params: Mapping[str, str], max_input_chars: int) -> Submission:
    """Check SubmitAudioProduceJob's parameters; ApiError names the first problem."""
    # The order of the checks decides which problem a bad call is told about: keep it.
    text = required(params, "InputConfig")
    editing_json = required(params, "EditingConfig")
    editing = _json_object("EditingConfig", editing_json)
    output = _json_object("OutputConfig", required(params, "OutputConfig"))
    if len(text) > max_input_chars:
        raise invalid(
            f"InputConfig is {len(text)} characters long; at most {max_input_chars} are allowed."
        )
    audio_format = _audio_format(editing.get("format", "MP3"))
    title = _limited(params, "Title", TITLE_BYTES)
    description = _limited(params, "Description", DESCRIPTION_BYTES)
    user_data = _limited(params, "UserData", USER_DATA_BYTES)
    if user_data:
        _json_object("UserData", user_data)
    if params.get("Overwrite", "true").lower() not in ("true", "false"):
        raise invalid(f"Overwrite must be true or false, not {params['Overwrite']!r}.")
    bucket, key = output.get("bucket"), output.get("object")
    if not isinstance(bucket, str) or not BUCKET.fullmatch(bucket):
        raise invalid(
            f"OutputConfig.bucket {bucket!r} is not a valid OSS bucket name "
            "(3-63 lower-case letters, digits and hyphens, not starting or ending with a hyphen)."
        )
    return Submission(
        input=text,
        editing=EditingConfig(
            voice=_optional_text(editing, "voice"),
            customized_voice=_optional_text(editing, "customizedVoice"),
            format=audio_format,
            volume=_whole(editing, "volume", DEFAULT_VOLUME, VOLUME),
            speech_rate=_whole(editing, "speech_rate", 0, RATE),
            pitch_rate=_whole(editing, "pitch_rate", 0, RATE),
        ),
        sample_rate=_sample_rate(text),
        bucket=bucket,
        object=_object_key(key),
        title=title,
        description=description,
        user_data=user_data,
        editing_json=editing_json,
    )


def _json_object(name: str, value: str) -> dict[str, object]:
    try:
        document = json.loads(value)
    except json.JSONDecodeError as exc:
        raise invalid(f"{name} is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise invalid(f"{name} must be a JSON object.")
    return document


def _audio_format(value: object) -> AudioFormat:
    """EditingConfig.format, which the service takes in any letter case."""
    if isinstance(value, str):
        for audio_format in FORMATS:
            if value.upper() == audio_format.upper():
                return audio_format
    raise invalid(f"EditingConfig.format must be PCM, WAV or MP3, not {value!r}.")


def _limited(params: Mapping[str, str], name: str, limit: int) -> str:
    value = params.get(name, "")
    size = len(value.encode("utf-8"))
    if size > limit:
        raise invalid(f"{name} is {size} bytes long in UTF-8; at most {limit} are allowed.")
    return value


def _optional_text(editing: Mapping[str, object], name: str) -> str | None:
    value = editing.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(f"EditingConfig.{name} must be a string, not {value!r}.")
    return value


def _whole(editing: Mapping[str, object], name: str, default: int, bounds: tuple[int, int]) -> int:
    value = editing.get(name, default)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,6}", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not within(value, bounds):
        raise invalid(
            f"EditingConfig.{name} must be a whole number from {spell(bounds)}, not {value!r}."
        )
    return value


def _object_key(key: object) -> str:
    if not isinstance(key, str) or not key:
        raise invalid("OutputConfig.object must be a non-empty string.")
    parts = key.split("/")
    if (
        len(key.encode("utf-8")) > MAX_KEY_BYTES
        or _CONTROL.search(key)
        or "\\" in key
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise invalid(
            f"OutputConfig.object {key!r} is not a valid object key (at most {MAX_KEY_BYTES} "
            "bytes, no control characters or backslashes, no empty, '.' or '..' path segments)."
        )
    return key


def _sample_rate(text: str) -> int:
    match = _SAMPLE_RATE.match(text)
    if match is None:
        return DEFAULT_SAMPLE_RATE
    if match.group(1) not in {str(rate) for rate in SAMPLE_RATES}:
        raise invalid(f'<speak sampleRate="{match.group(1)}"> must be {spell_rates()}.')
    return int(match.group(1))
