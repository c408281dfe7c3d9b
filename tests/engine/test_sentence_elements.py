"""`<s>` on the local engine: a sentence, not half a second of silence before the first one.

espeak-ng reads an opening `<s>` as a paragraph break, which at the start of a document is
silence nobody asked for (the quickstart's lesson template starts with one).
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator

import numpy as np
import pytest

from voxform.engine.client import EspeakEngine, Synthesis

LOUD = 300  # a sample this far from zero is speech, not silence


@pytest.fixture(scope="module")
def engine() -> Iterator[EspeakEngine]:
    with EspeakEngine(workers=2) as local:
        yield local


def speak(engine: EspeakEngine, ssml: str) -> Synthesis:
    return engine.synthesize(
        ssml, voice="siqi", customized_voice=None, fmt="wav", sample_rate=16000
    )


def lead_in(result: Synthesis) -> float:
    """Seconds of silence before the first speech."""
    with wave.open(io.BytesIO(result.audio)) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        rate = wav.getframerate()
    return float(np.argmax(np.abs(samples) > LOUD)) / rate


@pytest.mark.parametrize(
    "document",
    [
        "<speak><s>Lesson one: getting started.</s> Hello there.</speak>",
        "<speak>\n  <s>Lesson one: getting started.</s> Hello there.</speak>",
        "<speak><emotion category='happy'><s>Lesson one: getting started.</s></emotion>"
        " Hello there.</speak>",
    ],
)
def test_a_leading_sentence_element_adds_no_silence(engine: EspeakEngine, document: str) -> None:
    plain = speak(engine, "<speak>Lesson one: getting started. Hello there.</speak>")
    marked = speak(engine, document)
    assert lead_in(marked) == pytest.approx(lead_in(plain), abs=0.05)
    assert marked.duration == pytest.approx(plain.duration, abs=0.1)
    assert [s.content for s in marked.segments] == [
        "Lesson one: getting started.",
        "Hello there.",
    ]
    assert marked.segments[0].start == 0.0


def test_sentence_elements_still_end_and_separate_sentences(engine: EspeakEngine) -> None:
    # No full stops: only the elements tell where one sentence ends and the next begins.
    result = speak(engine, "<speak><s>Lesson one</s><s>Getting started</s>Hello</speak>")
    joined = speak(engine, "<speak>Lesson one Getting started Hello</speak>")
    assert [s.content for s in result.segments] == ["Lesson one", "Getting started", "Hello"]
    assert lead_in(result) < 0.1
    assert result.duration > joined.duration + 0.5  # the pauses between them are there


def test_a_sentence_element_after_speech_keeps_its_pause(engine: EspeakEngine) -> None:
    inline = speak(engine, "<speak>First part. Second part.</speak>")
    marked = speak(engine, "<speak>First part.<s>Second part.</s></speak>")
    assert marked.duration > inline.duration + 0.1
    assert [s.content for s in marked.segments] == ["First part.", "Second part."]
