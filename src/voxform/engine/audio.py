"""Resampling and encoding of 16-bit mono speech, bit-exact on every machine.

The resampler's windowed-sinc taps are rounded to integers, so every product and sum it
forms is an integer far below 2**53 and exact in float64: the same samples give the same
bytes whatever order BLAS adds in, on any CPU.
"""

from __future__ import annotations

import io
import wave
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


def encode(samples: Samples, sample_rate: int, fmt: AudioFormat, *, draft: bool = False) -> bytes:
    """The file bytes of int16 mono samples in one of ICE's output formats. `draft`: a quick,
    small MP3 for hearing what is said (a review's preview), LAME quality 7 at 48 kbit/s:
    a third of the CPU of the quality 2 that kept files are made with."""
    pcm = samples.astype("<i2").tobytes()
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
    encoder.set_bit_rate(48 if draft else 64 if sample_rate <= 16000 else 128)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_out_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(7 if draft else 2)
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())


def silence(seconds: float, sample_rate: int, fmt: AudioFormat) -> bytes:
    """The file bytes of `seconds` of silence (rounded to whole samples) in `fmt`."""
    samples = np.zeros(max(0, round(seconds * sample_rate)), dtype=np.int16)
    return encode(samples, sample_rate, fmt)
