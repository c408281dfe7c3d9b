"""What Alibaba Cloud ICE accepts, stated once: the manifest checks, the SSML checks, the
local engine and the emulator all read these (see shared ICE.md)."""

from __future__ import annotations

from typing import Final

SAMPLE_RATES: Final = (8000, 16000, 24000, 48000)
DEFAULT_SAMPLE_RATE: Final = 16000

# EditingConfig value ranges (inclusive) and defaults.
VOLUME: Final = (0, 100)
RATE: Final = (-500, 500)  # speech_rate and pitch_rate, and <speak rate/pitch>
DEFAULT_VOLUME: Final = 50

# <break time>: 50 ms to 10 s.
BREAK_MS: Final = (50, 10_000)

# SubmitAudioProduceJob's metadata, in UTF-8 bytes.
TITLE_BYTES: Final = 128
DESCRIPTION_BYTES: Final = 1024
USER_DATA_BYTES: Final = 512

# InputConfig length; the seed document says 2,000 characters (configurable per target).
DEFAULT_MAX_INPUT_CHARS: Final = 2000


def within(value: int, bounds: tuple[int, int]) -> bool:
    """Whether `value` lies in the inclusive range `bounds`."""
    return bounds[0] <= value <= bounds[1]


def spell(bounds: tuple[int, int]) -> str:
    """A range for messages: `-500 to 500`."""
    return f"{bounds[0]} to {bounds[1]}"


def spell_rates() -> str:
    """The sample rates for messages: `8000, 16000, 24000 or 48000`."""
    *head, last = (str(rate) for rate in SAMPLE_RATES)
    return f"{', '.join(head)} or {last}"
