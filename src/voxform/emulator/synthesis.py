"""What the emulator's jobs speak with: the local engine, or silence of the right length.

`espeak` gives real audio and sentence timings. `silence` is for load tests, where the
emulator's CPU must not be what limits the client: it writes valid silent audio as long as
the text would take to say, from a cache, and times the sentences by their length, without
ever starting the engine. Both refuse malformed SSML alike, since both read it the same way.
"""

from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from typing import Literal, Protocol

from voxform.emulator.submission import Submission
from voxform.engine.client import EspeakEngine, Synthesis
from voxform.engine.params import rate_multiplier
from voxform.engine.ssml import translate
from voxform.ice.wire import AudioFormat, Segment

SynthesisMode = Literal["espeak", "silence"]
SYNTHESIS_MODES: tuple[SynthesisMode, ...] = ("espeak", "silence")

CHARACTERS_PER_SECOND = 15.0  # how fast silence "speaks" at speech_rate 0
MIN_SECONDS = 0.5
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026\u3002\uff01\uff1f])\s+|(?<=[\u3002\uff01\uff1f])")
_SPACE = re.compile(r"\s+")


class Synthesizer(Protocol):
    """Turns an accepted submission into audio; ItemError for what cannot be spoken."""

    workers: int  # how many syntheses may run at once
    serial: bool  # quick enough for one thread that takes every queued job at each wake-up

    def synthesize(self, submission: Submission) -> Synthesis: ...

    def close(self) -> None: ...


class EspeakSynthesizer:
    """Real speech from the local engine (started on first use)."""

    def __init__(self, engine: EspeakEngine) -> None:
        self.engine = engine
        self.workers = engine.workers
        self.serial = False

    def synthesize(self, submission: Submission) -> Synthesis:
        """Speak the submission with its voice profile and sample rate."""
        return self.engine.synthesize_config(
            submission.input, submission.editing, submission.sample_rate
        )

    def close(self) -> None:
        self.engine.close()


class SilentSynthesizer:
    """Silence as long as the text, one timed segment per sentence; no engine at all."""

    def __init__(self, workers: int | None = None) -> None:
        # The work is a cache lookup and a file write: one thread keeps up (see JobStore),
        # taking the jobs in turn. `workers` still sizes the pool JobStore makes (and checks).
        self.workers = workers if workers is not None else max(4, os.cpu_count() or 1)
        self.serial = True
        # numpy and lameenc load now, in the background: loaded by the first job, they made
        # it a second late, and a client learning the service's latency learnt that second.
        threading.Thread(target=_load_encoder, name="voxform-emulator-load", daemon=True).start()

    def synthesize(self, submission: Submission) -> Synthesis:
        """Silent audio in the submission's format, rate and estimated length."""
        script = translate(submission.input)
        rate = script.settings.rate
        speed = rate_multiplier(submission.editing.speech_rate if rate is None else rate)
        text = _SPACE.sub(" ", script.text).strip()
        seconds = max(MIN_SECONDS, len(text) / CHARACTERS_PER_SECOND / speed)
        sentences = [sentence for sentence in _SENTENCE_END.split(text) if sentence]
        tenths = round(seconds * 10)
        audio = silent_audio(submission.editing.format, submission.sample_rate, tenths)
        return Synthesis(audio, tenths / 10, timed(sentences, tenths / 10), submission.sample_rate)

    def close(self) -> None:
        """Nothing to stop."""


def _load_encoder() -> None:
    import voxform.engine.audio  # noqa: F401


@lru_cache(maxsize=4096)
def silent_audio(fmt: AudioFormat, sample_rate: int, tenths: int) -> bytes:
    """Encoded silence of `tenths` tenths of a second, computed once per kind and length."""
    if fmt == "mp3" and (frame := _silent_frame(sample_rate)) is not None:
        return frame * _silent_frames(sample_rate, tenths)
    # numpy and lameenc load here, not when the CLI starts: every command imports this module.
    from voxform.engine.audio import silence

    return silence(tenths / 10, sample_rate, fmt)


# MP3 silence at the MPEG-2 rates is one 576-sample frame repeated, two more than the samples
# fill: those bytes are made without the encoder, which spent a tenth of the emulator's CPU
# in a 10,000-item load test (219 lengths of 16 s of audio each); tests/emulator's
# test_silence checks them against the encoder's, byte for byte.
_FRAME_SAMPLES = {8000: 576, 16000: 576, 24000: 576}


def _silent_frames(sample_rate: int, tenths: int) -> int:
    samples = round(tenths / 10 * sample_rate)
    return -(-samples // _FRAME_SAMPLES[sample_rate]) + 2


@lru_cache(maxsize=8)
def _silent_frame(sample_rate: int) -> bytes | None:
    """The frame that MP3 silence at `sample_rate` repeats, if it is one frame repeated as
    `_silent_frames` counts (found from one second encoded); None otherwise."""
    if sample_rate not in _FRAME_SAMPLES:
        return None
    from voxform.engine.audio import silence

    second = silence(1.0, sample_rate, "mp3")
    count = _silent_frames(sample_rate, 10)
    size, rest = divmod(len(second), count)
    if rest or second != second[:size] * count:
        return None
    return second[:size]


def timed(sentences: list[str], seconds: float) -> tuple[Segment, ...]:
    """Sentences over `seconds`, each given time in proportion to its length."""
    total = sum(map(len, sentences))
    if not total:
        return (Segment("", 0.0, seconds),)
    segments, spoken = [], 0
    for sentence in sentences:
        start = spoken / total * seconds
        spoken += len(sentence)
        segments.append(Segment(sentence, round(start, 3), round(spoken / total * seconds, 3)))
    return tuple(segments)
