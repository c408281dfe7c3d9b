"""Decoding what the local engine wrote, to check it the way a listener would."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path


def wav_stats(data: bytes) -> tuple[int, float, float]:
    """Sample rate, duration in seconds and RMS (0..1) of a 16-bit mono WAV."""
    with wave.open(io.BytesIO(data)) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    return rate, len(frames) / 2 / rate, _rms(frames)


def _rms(frames: bytes) -> float:
    samples = struct.unpack(f"<{len(frames) // 2}h", frames[: len(frames) // 2 * 2])
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768


def mp3_duration(data: bytes) -> tuple[int, float]:
    """Sample rate and duration of an MP3 stream, by walking its frame headers."""
    bitrates = {
        1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
        2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    }
    rates = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}
    position, seconds, frames, sample_rate = 0, 0.0, 0, 0
    while position + 4 <= len(data):
        header = int.from_bytes(data[position : position + 4], "big")
        if header >> 21 != 0x7FF:
            position += 1
            continue
        version = (header >> 19) & 3
        bitrate_index, rate_index, padding = (
            (header >> 12) & 15,
            (header >> 10) & 3,
            (header >> 9) & 1,
        )
        if version == 1 or bitrate_index in (0, 15) or rate_index == 3:
            position += 1
            continue
        sample_rate = rates[version][rate_index]
        samples = 1152 if version == 3 else 576
        bitrate = bitrates[1 if version == 3 else 2][bitrate_index] * 1000
        length = samples // 8 * bitrate // sample_rate + padding
        position += length
        seconds += samples / sample_rate
        frames += 1
    assert frames > 0, "no MP3 frames found"
    return sample_rate, seconds


def audio_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
