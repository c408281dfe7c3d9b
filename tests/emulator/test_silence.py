"""`--synthesis silence`: valid silent audio of the text's length, without the engine."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from e2e.audio import mp3_duration, wav_stats
from emulator.calls import SSML, final_job, submit
from voxform.emulator.service import Emulator, EmulatorConfig

StartEmulator = Callable[..., Emulator]
SPOKEN = len("Hello there. How are you today?")
SECONDS = round(SPOKEN / 15, 1)  # at 15 characters a second, in tenths


@pytest.fixture
def emulator_options() -> dict[str, object]:
    return {"synthesis": "silence", "latency": 0.05}


@pytest.mark.parametrize(("fmt", "rate"), [("mp3", 16000), ("wav", 24000), ("pcm", 8000)])
def test_silence_is_valid_audio_as_long_as_the_text(
    emulator: Emulator, fmt: str, rate: int
) -> None:
    text = SSML.replace("<speak>", f'<speak sampleRate="{rate}">')
    editing = json.dumps({"voice": "xiaoyun", "format": fmt.upper()})
    job = final_job(
        emulator, submit(emulator, InputConfig=text, EditingConfig=editing).json()["JobId"]
    )
    assert job["State"] == "Finished", job.get("ErrorMessage")
    data = (emulator.storage / f"narration/intro/hello.{fmt}").read_bytes()
    if fmt == "mp3":
        found_rate, seconds = mp3_duration(data)
    elif fmt == "wav":
        found_rate, seconds, rms = wav_stats(data)
        assert rms == 0.0
    else:
        found_rate, seconds = rate, len(data) / 2 / rate
        assert data == bytes(len(data))
    assert found_rate == rate
    assert SECONDS - 0.01 <= seconds <= SECONDS + 0.15  # MP3 adds the encoder's padding
    timings = json.loads(job["JobResult"]["AiResult"])
    assert [t["content"] for t in timings] == ["Hello there.", "How are you today?"]
    assert timings[0]["from"] == 0 < timings[0]["to"] == timings[1]["from"]
    assert timings[-1]["to"] == SECONDS


def test_silence_never_starts_the_engine(emulator: Emulator) -> None:
    final_job(emulator, submit(emulator).json()["JobId"])
    assert emulator.engine is None


def test_silence_still_refuses_malformed_ssml(emulator: Emulator) -> None:
    job = final_job(
        emulator, submit(emulator, InputConfig="<speak>open <s>x</speak>").json()["JobId"]
    )
    assert (job["State"], job["ErrorCode"]) == ("Failed", "InvalidParameter")


def test_a_slower_speech_rate_makes_longer_silence(emulator: Emulator) -> None:
    editing = json.dumps({"format": "PCM", "speech_rate": -500})
    job = final_job(emulator, submit(emulator, EditingConfig=editing).json()["JobId"])
    # speech_rate -500 speaks at half the speed.
    assert json.loads(job["JobResult"]["AiResult"])[-1]["to"] == round(SPOKEN / 15 * 2, 1)


@pytest.mark.parametrize("synthesis", ["espeak", "silence"])
def test_a_failed_start_leaves_no_socket_or_thread(tmp_path: Path, synthesis: str) -> None:
    fds, threads = set(os.listdir("/proc/self/fd")), set(threading.enumerate())
    config = EmulatorConfig(storage=tmp_path, synthesis=synthesis, engine_workers=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Emulator(config)
    assert set(os.listdir("/proc/self/fd")) <= fds
    assert set(threading.enumerate()) <= threads


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_mp3_silence_made_from_frames_is_the_encoders_byte_for_byte(rate: int) -> None:
    """Lengths over every remainder of a frame (576 samples: 18 tenths at 8 kHz cover them
    all), and a few long ones."""
    from voxform.emulator.synthesis import _silent_frame, silent_audio
    from voxform.engine.audio import silence

    assert _silent_frame(rate) is not None  # made from frames, not by the encoder
    for tenths in [*range(1, 19), 95, 161, 1234]:
        assert silent_audio("mp3", rate, tenths) == silence(tenths / 10, rate, "mp3"), tenths
