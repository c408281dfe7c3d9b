"""The caller's side of the local engine: thread-safe, byte-identical output per input.

Requests go to the zygote process (engine/zygote.py) over a pipe; a reader thread hands
each answer to the thread that asked.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from voxform.engine import zygote
from voxform.engine.audio import Levels
from voxform.engine.params import (
    checked,
    espeak_pitch,
    espeak_rate,
    espeak_voice,
    espeak_volume,
)
from voxform.engine.ssml import Script, translate
from voxform.errors import FatalError, ItemError
from voxform.ice.limits import RATE, SAMPLE_RATES, VOLUME, spell_rates
from voxform.ice.wire import FORMATS, AudioFormat, EditingConfig, Segment

# `synthesize`'s sample rate for audio at the engine's own rate, not resampled.
OWN_RATE: Final = 0
# A draft's sample rate besides ICE's: half the engine's own (22,050 Hz), cheaply filtered.
DRAFT_RATE: Final = 11025


@dataclass(frozen=True)
class Synthesis:
    """One synthesized document."""

    audio: bytes  # encoded file bytes in the requested format
    duration: float  # seconds
    segments: tuple[Segment, ...]  # one per sentence
    sample_rate: int  # of `audio`: the one asked for, or the engine's own (OWN_RATE)
    # A draft MP3's duration as a decoder plays it and its level strip, made from the
    # samples it encodes (no decoding); None for any other file.
    levels: Levels | None = None


@dataclass
class _Call:
    """One request waiting for the zygote's answer."""

    done: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    error: FatalError | None = None


class EspeakEngine:
    """espeak-ng behind a zygote process: thread-safe, byte-identical output per input."""

    def __init__(self, workers: int | None = None, backlog: int = 0) -> None:
        """`workers`: syntheses run at once (default: one per core). `backlog`: requests that
        may wait in the engine besides, so that one starts as soon as a worker is free."""
        self.workers = workers if workers is not None else os.cpu_count() or 1
        if self.workers < 1 or backlog < 0:
            raise ValueError("workers must be at least 1, and backlog at least 0")
        self._slots = threading.BoundedSemaphore(self.workers + backlog)
        # how many syntheses a request may wait behind in the engine before its own starts,
        # and the longest that one of them may take (its deadline)
        self._ahead = -(-backlog // self.workers)
        self._longest = 0.0
        self._lock = threading.Lock()  # guards everything below
        self._write_lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._calls: dict[int, _Call] = {}
        self._next_id = 1
        self._failure: str | None = None  # why the zygote can no longer be used
        self._closed = False

    def __enter__(self) -> EspeakEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def synthesize(
        self,
        ssml: str,
        *,
        voice: str | None,
        customized_voice: str | None,
        fmt: AudioFormat,
        sample_rate: int,
        volume: int = 50,
        speech_rate: int = 0,
        pitch_rate: int = 0,
        draft: bool = False,
    ) -> Synthesis:
        """Speak an Alibaba SSML document (or plain text); ItemError for bad input.

        The `<speak>` element's rate, pitch, volume and voice attributes win over the
        arguments; its encodeType and sampleRate do not (the caller names the file).
        `sample_rate` OWN_RATE: the audio at the rate espeak-ng speaks, not resampled; and
        `draft`: a quick, small MP3, also at DRAFT_RATE, with its levels (for a review's
        previews: resampling and a kept file's MP3 encoding cost more than espeak-ng).
        """
        if fmt not in FORMATS:
            raise ItemError(f"unknown audio format {fmt!r}", code="InvalidParameter")
        drafted = draft and sample_rate == DRAFT_RATE
        if sample_rate not in SAMPLE_RATES and sample_rate != OWN_RATE and not drafted:
            raise ItemError(
                f"sample rate must be one of {spell_rates()}, not {sample_rate!r}",
                code="InvalidParameter",
            )
        script = translate(ssml)
        settings = script.settings
        speech_rate = checked("speech_rate", _or(settings.rate, speech_rate), RATE)
        pitch_rate = checked("pitch_rate", _or(settings.pitch, pitch_rate), RATE)
        volume = checked("volume", _or(settings.volume, volume), VOLUME)
        if settings.voice is not None:  # the document's own voice wins
            voice, customized_voice = settings.voice, None
        job = zygote.Job(
            ssml=script.ssml,
            voice=espeak_voice(voice, customized_voice, mandarin=script.mandarin),
            rate=espeak_rate(speech_rate),
            pitch=espeak_pitch(pitch_rate),
            volume=espeak_volume(volume),
            fmt=fmt,
            sample_rate=sample_rate,
            deadline=60.0 + 0.01 * len(script.ssml),
            draft=draft,
        )
        return _answer(script, self._run(job))

    def synthesize_config(
        self, ssml: str, editing: EditingConfig, sample_rate: int, *, draft: bool = False
    ) -> Synthesis:
        """`synthesize` with the voice profile and format of an ICE EditingConfig."""
        return self.synthesize(
            ssml,
            voice=editing.voice,
            customized_voice=editing.customized_voice,
            fmt=editing.format,
            sample_rate=sample_rate,
            volume=editing.volume,
            speech_rate=editing.speech_rate,
            pitch_rate=editing.pitch_rate,
            draft=draft,
        )

    def start(self) -> None:
        """Start the engine's process now (else it starts on first use), so that its start-up
        overlaps the caller's own work."""
        with self._lock:
            self._raise_if_unusable()
            self._start()

    def close(self) -> None:
        """Stop the zygote and its children; calls still waiting get FatalError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            process, reader = self._process, self._reader
            unused = self._next_id == 1  # started but never asked: no child to wait for
        if process is not None:
            if unused:
                process.kill()
            _close_quietly(process.stdin)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if reader is not None:
            reader.join(timeout=5)
        self._fail_all("the local engine was closed")
        if self._stderr is not None:
            self._stderr.close()

    def _run(self, job: zygote.Job) -> bytes:
        """Send one job to the zygote and wait for its answer."""
        while not self._slots.acquire(timeout=1.0):
            self._raise_if_unusable()
        try:
            call = _Call()
            with self._lock:
                self._raise_if_unusable()
                process = self._start()
                request_id = self._next_id
                self._next_id += 1
                self._calls[request_id] = call
                self._longest = max(self._longest, job.deadline)
                patience = job.deadline + 30.0 + self._ahead * self._longest
            payload = job.to_json()
            try:
                with self._write_lock:
                    assert process.stdin is not None
                    process.stdin.write(zygote.FRAME.pack(request_id, len(payload)) + payload)
                    process.stdin.flush()
            except (OSError, ValueError):
                pass  # the reader notices the zygote's end and fails the call
            if not call.done.wait(patience):
                self._kill(f"the local engine did not answer within {patience:.0f} s")
            if call.error is not None:
                raise call.error
            return call.body
        finally:
            self._slots.release()

    def _raise_if_unusable(self) -> None:
        if self._failure is not None:
            raise FatalError(self._failure)
        if self._closed:
            raise FatalError("the local engine is closed")

    def _start(self) -> subprocess.Popen[bytes]:
        """The running zygote, started on first use (call with self._lock held)."""
        if self._process is not None:
            return self._process
        env = dict(os.environ)
        # One thread per child: the children already spread over the cores, and a zygote
        # with no threads forks cleanly.
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        source_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from voxform.engine.zygote import main; main()",
                str(self.workers),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            start_new_session=True,  # a Ctrl-C is for the caller to handle, not the engine
        )
        self._reader = threading.Thread(
            target=self._read_answers, args=(self._process,), name="voxform-espeak", daemon=True
        )
        self._reader.start()
        return self._process

    def _read_answers(self, process: subprocess.Popen[bytes]) -> None:
        stream = process.stdout
        assert stream is not None
        frame = zygote.FRAME
        while True:
            header = stream.read(frame.size)
            if len(header) < frame.size:
                break
            request_id, length = frame.unpack(header)
            body = stream.read(length)
            if len(body) < length:
                break
            with self._lock:
                call = self._calls.pop(request_id, None)
            if call is not None:
                call.body = body
                call.done.set()
        if not self._closed:
            self._kill(self._exit_message(process))

    def _exit_message(self, process: subprocess.Popen[bytes]) -> str:
        try:
            code: int | None = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        detail = ""
        if self._stderr is not None:
            try:
                self._stderr.seek(0, os.SEEK_END)
                self._stderr.seek(max(0, self._stderr.tell() - 2000))
                detail = self._stderr.read().decode(errors="replace").strip()
            except (OSError, ValueError):
                pass
        return f"the local espeak-ng engine stopped unexpectedly (exit code {code})" + (
            f": {detail}" if detail else ""
        )

    def _kill(self, reason: str) -> None:
        """Give up on the zygote: every waiting call and every later one fails."""
        with self._lock:
            if self._failure is None:
                self._failure = reason
            process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        self._fail_all(reason)

    def _fail_all(self, reason: str) -> None:
        with self._lock:
            calls = list(self._calls.values())
            self._calls.clear()
        for call in calls:
            call.error = FatalError(reason)
            call.done.set()


def _or(override: int | None, value: int) -> int:
    return value if override is None else override


def _close_quietly(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


def _answer(script: Script, body: bytes) -> Synthesis:
    """Turn a child's answer into a Synthesis, or raise its error."""
    status, meta_length = zygote.BODY.unpack_from(body)
    meta = json.loads(body[zygote.BODY.size : zygote.BODY.size + meta_length])
    if status != zygote.OK:
        code = "InvalidParameter" if status == zygote.REJECTED else "SynthesisFailed"
        raise ItemError(f"local engine: {meta['error']}", code=code)
    duration = float(meta["duration"])
    source_rate = float(meta["source_rate"])
    rate = int(meta["sample_rate"])
    events = [
        (int(kind), int(position), sample / source_rate)
        for kind, position, sample in meta["events"]
    ]
    levels = None
    if "played" in meta:
        levels = Levels(float(meta["played"]), tuple(float(p) for p in meta["peaks"]))
    return Synthesis(
        audio=body[zygote.BODY.size + meta_length :],
        duration=duration,
        segments=script.segments(events, duration),
        sample_rate=rate,
        levels=levels,
    )
