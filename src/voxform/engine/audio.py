"""Resampling and encoding of 16-bit mono speech, bit-exact on every machine.

The resampler's windowed-sinc taps are rounded to integers, so every product and sum it
forms is an integer far below 2**53 and exact in float64: the same samples give the same
bytes whatever order BLAS adds in, on any CPU.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from functools import lru_cache
from math import gcd

import lameenc
import numpy as np
import numpy.typing as npt

from voxform.ice.wire import AudioFormat

Samples = npt.NDArray[np.int16]

_TAP_BITS = 18  # fixed-point precision of the filter taps
_ZERO_CROSSINGS = 10  # sinc lobes kept on each side of the centre
_ROLLOFF = 0.92  # cut-off as a share of the lower Nyquist frequency
_KAISER_BETA = 8.6  # about 90 dB of stop-band attenuation
_HALF_BAND_PAIRS = 8  # halve(): nonzero tap pairs of its half-band filter (33 taps)
_HALF_BAND_BETA = 7.0
_HALF_BAND_BLOCK = 8192  # halve(): outputs worked at a time
PEAKS = 64  # levels in a strip


@lru_cache(maxsize=16)
def _filter_matrix(src_rate: int, dst_rate: int) -> tuple[npt.NDArray[np.float64], int, int, int]:
    """The polyphase filter as one matrix: (taps[window, up], up, down, half).

    Block m of `up` outputs reads the `window` inputs from m * down on (of the input
    padded with `half` zeros in front), so resampling is one matrix product.
    """
    g = gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    cutoff = 0.5 * min(1.0, dst_rate / src_rate) * _ROLLOFF  # cycles per input sample
    half = int(np.ceil(_ZERO_CROSSINGS / (2.0 * cutoff)))
    width = 2 * half
    # Output p of a block lies p * down / up inputs after the block's start: `base` whole
    # inputs and a fraction `phase`; its taps cover inputs base - half + 1 .. base + half.
    base, phase = np.divmod(np.arange(up, dtype=np.int64) * down, up)
    offsets = np.arange(-half + 1, half + 1, dtype=np.float64)
    t = offsets[None, :] - phase[:, None] / up
    window = np.i0(_KAISER_BETA * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, 1.0)))
    taps = 2.0 * cutoff * np.sinc(2.0 * cutoff * t) * window
    taps /= taps.sum(axis=1, keepdims=True)  # unity gain at DC for every output
    one = 1 << _TAP_BITS
    fixed = np.round(taps * one)
    # Put the rounding residue on the centre tap so each output's taps sum to exactly one.
    centre = np.argmax(np.abs(fixed), axis=1)
    fixed[np.arange(up), centre] += one - fixed.sum(axis=1)
    matrix = np.zeros((int(base[-1]) + width + 1, up), dtype=np.float64)
    for p in range(up):
        matrix[base[p] + 1 : base[p] + 1 + width, p] = fixed[p]
    return matrix, up, down, half


def resample(samples: Samples, src_rate: int, dst_rate: int) -> Samples:
    """Band-limited resampling of int16 mono samples from src_rate to dst_rate."""
    if src_rate == dst_rate or samples.size == 0:
        return samples.copy()
    matrix, up, down, half = _filter_matrix(src_rate, dst_rate)
    window = matrix.shape[0]
    n_out = samples.size * up // down
    blocks = -(-n_out // up)
    padded = np.zeros((blocks - 1) * down + window, dtype=np.float64)
    padded[half : half + samples.size] = samples[: padded.size - half]
    rows = np.lib.stride_tricks.sliding_window_view(padded, window)[::down][:blocks]
    # Integer taps times int16 samples stay far below 2**53, so every float64 sum is
    # exact whatever order BLAS adds in: the result does not depend on the machine.
    total = (rows @ matrix).reshape(-1)[:n_out].astype(np.int64)
    total += 1 << (_TAP_BITS - 1)
    total >>= _TAP_BITS
    return np.clip(total, -32768, 32767).astype(np.int16)


@lru_cache(maxsize=1)
def _half_band() -> tuple[tuple[int, int], ...]:
    """halve()'s filter: (odd offset, integer tap) pairs; the centre tap is the rest of one."""
    offsets = np.arange(1, 2 * _HALF_BAND_PAIRS, 2)
    span = 2 * _HALF_BAND_PAIRS
    window = np.i0(_HALF_BAND_BETA * np.sqrt(1.0 - (offsets / span) ** 2))
    taps = 0.5 * np.sinc(offsets / 2.0) * window / np.i0(_HALF_BAND_BETA)
    taps *= 0.25 / taps.sum()  # with the centre tap of 1/2 on both sides: unity gain at DC
    fixed = np.round(taps * (1 << _TAP_BITS)).astype(np.int64)
    return tuple(zip(offsets.tolist(), fixed.tolist(), strict=True))


def halve(samples: Samples) -> Samples:
    """Every second sample, low-passed below a quarter of the rate first (a half-band filter
    of integer taps, exact on every machine): speech at half the sample rate, at a fraction
    of the cost of `resample`. espeak-ng's 22,050 Hz keeps 98.6% of its energy at 11,025 Hz.

    A half-band filter's taps are zero at even offsets but the centre: output n is the centre
    tap times samples[2n] plus the odd taps over odd[m] = samples[2m + 1] around it,
    samples[2n +- (2j + 1)] = odd[n + j] and odd[n - 1 - j]: one convolution. Worked in
    blocks of small arrays that the allocator hands out again: a forked child (the engine's
    zygote) pays for every fresh page it touches."""
    taps = np.array([tap for _, tap in _half_band()], dtype=np.int64)
    kernel = np.concatenate([taps[::-1], taps])
    centre = (1 << _TAP_BITS) - 2 * int(taps.sum())
    reach = taps.size
    size = odds = samples.size // 2
    out = np.empty(size, dtype=np.int16)
    for first in range(0, size, _HALF_BAND_BLOCK):
        count = min(_HALF_BAND_BLOCK, size - first)
        low, high = first - reach, first + count + reach - 1  # the odd samples it reads
        odd = np.zeros(high - low, dtype=np.int64)
        have_low, have_high = max(low, 0), min(high, odds)
        odd[have_low - low : have_high - low] = samples[2 * have_low + 1 : 2 * have_high + 1 : 2]
        total = np.convolve(odd, kernel, "valid")
        total += centre * samples[2 * first : 2 * (first + count) : 2].astype(np.int64)
        total += 1 << (_TAP_BITS - 1)
        total >>= _TAP_BITS
        out[first : first + count] = np.clip(total, -32768, 32767)
    return out


@dataclass(frozen=True, slots=True)
class Levels:
    """What a review page states of a take: its duration and its level strip."""

    duration: float  # seconds, to the millisecond
    peaks: tuple[float, ...]  # about PEAKS levels, 0..1, over equal slices


def peaks(samples: Samples, count: int = PEAKS) -> tuple[float, ...]:
    """The peak level of each of `count` equal slices (fewer for a very short take), 0..1,
    rounded to two digits so that the same audio gives the same page bytes."""
    if samples.size == 0:
        return ()
    count = min(count, samples.size)
    edges = np.linspace(0, samples.size, count + 1).astype(np.int64)
    magnitude = np.abs(samples.astype(np.int32))
    tops = np.maximum.reduceat(magnitude, edges[:-1])
    return tuple(round(min(1.0, float(top) / 32768), 2) for top in tops)


# LAME's encoder delay plus a decoder's (samples): where the speech starts in a decoded MP3.
_MP3_DELAY = 576 + 529
_MP3_KBITS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 and 2.5
}


def mp3_samples(data: bytes, sample_rate: int) -> int:
    """Samples a decoder plays from `data`, an MP3 file of whole layer III frames as `encode`
    makes them (no tags): every frame's, as miniaudio and Chromium count them."""
    position = total = 0
    while position + 4 <= len(data):
        header = int.from_bytes(data[position : position + 4], "big")
        if header >> 21 != 0x7FF or (header >> 17) & 3 != 1:
            raise ValueError(f"no MP3 frame at byte {position}")
        version = (header >> 19) & 3
        kbits = _MP3_KBITS[3 if version == 3 else 2][(header >> 12) & 15]
        per_frame = 1152 if version == 3 else 576
        position += per_frame // 8 * kbits * 1000 // sample_rate + ((header >> 9) & 1)
        total += per_frame
    return total


def draft_levels(samples: Samples, sample_rate: int, mp3: bytes) -> Levels:
    """The levels of `mp3`, the draft `encode` made of `samples`, without decoding it: its
    duration as a decoder plays it, and the strip of the samples where they sound in it."""
    played = mp3_samples(mp3, sample_rate)
    timeline = np.zeros(max(played, samples.size), dtype=np.int16)
    start = min(_MP3_DELAY, timeline.size - samples.size)
    timeline[start : start + samples.size] = samples
    return Levels(round(played / sample_rate, 3), peaks(timeline[:played]))


def encode(samples: Samples, sample_rate: int, fmt: AudioFormat, *, draft: bool = False) -> bytes:
    """The file bytes of int16 mono samples in one of ICE's output formats. `draft`: a quick,
    small MP3 for hearing what is said (a review's preview), LAME quality 7 at 48 kbit/s
    (32 at 11,025 Hz and below): a third of the CPU of the quality 2 of kept files."""
    pcm = samples.astype("<i2", copy=False).tobytes()
    if fmt == "pcm":
        return pcm
    if fmt == "wav":
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(pcm)
        return buffer.getvalue()
    encoder = lameenc.Encoder()
    if draft:
        encoder.set_bit_rate(32 if sample_rate <= 11025 else 48)
    else:
        encoder.set_bit_rate(64 if sample_rate <= 16000 else 128)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(7 if draft else 2)
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())


def silence(seconds: float, sample_rate: int, fmt: AudioFormat) -> bytes:
    """The file bytes of `seconds` of silence (rounded to whole samples) in `fmt`."""
    samples = np.zeros(max(0, round(seconds * sample_rate)), dtype=np.int16)
    return encode(samples, sample_rate, fmt)
