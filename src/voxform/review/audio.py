"""A take's duration and level strip, from its decoded samples (WAV by the standard library,
MP3 by miniaudio: Python has no MP3 decoder of its own)."""

from __future__ import annotations

import io
import wave

import numpy as np
import numpy.typing as npt

from voxform.engine.audio import Levels as Levels
from voxform.engine.audio import peaks
from voxform.errors import VoxformError


class UndecodableAudio(VoxformError):
    """Bytes that are not audio this page can describe (a damaged or foreign file)."""


MIMES = {"mp3": "audio/mpeg", "wav": "audio/wav"}


def levels(data: bytes, fmt: str) -> Levels:
    """Duration and peaks of `data`, an "mp3" or "wav" file; UndecodableAudio otherwise."""
    samples, rate = decode(data, fmt)
    return Levels(round(samples.size / rate, 3), peaks(samples))


def decode(data: bytes, fmt: str) -> tuple[npt.NDArray[np.int16], int]:
    """Mono 16-bit samples and their rate."""
    if fmt == "wav":
        return _wav(data)
    if fmt == "mp3":
        return _mp3(data)
    raise UndecodableAudio(f"no decoder for {fmt!r} audio")


def _wav(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    try:
        with wave.open(io.BytesIO(data)) as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, ValueError) as exc:
        raise UndecodableAudio(f"not a WAV file: {exc}") from exc
    if width != 2 or rate <= 0 or channels < 1:
        raise UndecodableAudio(f"WAV of {8 * width}-bit samples: only 16-bit is read")
    samples = np.frombuffer(frames[: len(frames) // (2 * channels) * 2 * channels], "<i2")
    return _mono(samples, channels), rate


def _mp3(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    import miniaudio  # here: only a review decodes MP3

    try:  # at its own rate and channels: miniaudio.decode would resample to 44.1 kHz stereo
        decoded = miniaudio.mp3_read_s16(data)
    except miniaudio.DecodeError as exc:
        raise UndecodableAudio(f"not an MP3 file: {exc}") from exc
    if decoded.sample_rate <= 0 or decoded.nchannels < 1:
        raise UndecodableAudio("an MP3 file without samples")
    samples = np.frombuffer(decoded.samples, dtype=np.int16)
    return _mono(samples, decoded.nchannels), decoded.sample_rate


def _mono(samples: npt.NDArray[np.int16], channels: int) -> npt.NDArray[np.int16]:
    if channels == 1:
        return samples.astype(np.int16, copy=False)
    # the loudest channel of each frame: a strip shows what can be heard
    frames = samples.reshape(-1, channels).astype(np.int32)
    loudest = np.take_along_axis(frames, np.abs(frames).argmax(axis=1)[:, None], axis=1)
    return loudest.reshape(-1).astype(np.int16)
