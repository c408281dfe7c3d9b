"""ICE's voice settings in espeak-ng's terms: voices, rate, pitch and volume (ICE.md)."""

from __future__ import annotations

import re

from voxform.errors import ItemError
from voxform.ice.limits import spell, within
from voxform.ice.voices import ICE_VOICES

# espeak-ng's defaults: 175 words per minute (80..450), pitch 50 (0..100), volume 100.
_DEFAULT_RATE, _MIN_RATE, _MAX_RATE = 175, 80, 450
_DEFAULT_PITCH = 50


_ESPEAK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+\-]{0,63}")


def rate_multiplier(rate: int) -> float:
    """ICE's speech_rate (or pitch_rate) -500..500 as a multiplier 0.5..2."""
    return 1 / (1 - 0.002 * rate) if rate < 0 else 1 / (1 - 0.001 * rate)


def espeak_rate(speech_rate: int) -> int:
    """Words per minute for espeak-ng."""
    wpm = int(_DEFAULT_RATE * rate_multiplier(speech_rate) + 0.5)
    return min(max(wpm, _MIN_RATE), _MAX_RATE)


def espeak_pitch(pitch_rate: int) -> int:
    """espeak-ng's base pitch 0..100: 50 scaled by the multiplier (-500 -> 25, 500 -> 100)."""
    return min(int(_DEFAULT_PITCH * rate_multiplier(pitch_rate) + 0.5), 100)


def espeak_volume(volume: int) -> int:
    """espeak-ng's amplitude: ICE's 0..100 doubled (espeak-ng's default 100 is ICE's 50)."""
    return 2 * volume


def espeak_voice(voice: str | None, customized_voice: str | None, *, mandarin: bool) -> str:
    """The espeak-ng voice name for an ICE voice id, a cloned voice or `espeak:<name>`."""
    if customized_voice is None and voice is not None and voice.lower().startswith("espeak:"):
        name = voice[len("espeak:") :]
        if not _ESPEAK_NAME.fullmatch(name):
            raise ItemError(f"invalid espeak-ng voice name {name!r}", code="InvalidParameter")
        return name
    gender = "female" if customized_voice is not None else ICE_VOICES.get((voice or "").lower())
    language = "cmn" if mandarin else "en-us"
    return f"{language}+{'m3' if gender == 'male' else 'f3'}"


def checked(name: str, value: int, bounds: tuple[int, int]) -> int:
    """`value` when it is a whole number in `bounds`, else ItemError naming the setting."""
    if isinstance(value, bool) or not isinstance(value, int) or not within(value, bounds):
        raise ItemError(
            f"{name} must be a whole number from {spell(bounds)}, not {value!r}",
            code="InvalidParameter",
        )
    return value
