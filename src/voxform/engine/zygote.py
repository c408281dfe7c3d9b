"""The zygote: a process that initializes espeak-ng once and forks one child per request.

espeak-ng keeps state between syntheses in one process and seeds its noise generator with
the clock, so the same text can sound slightly different each time. The zygote (started
fresh, never forked from the caller, whose threads make forking unsafe) loads and
initializes espeak-ng but never synthesizes; each child fixes the seed, synthesizes,
resamples and encodes, sends the file back and exits. Every request thus starts from the
same engine state and gives the same bytes, in any process.

Wire format, all integers little-endian:
  caller -> zygote: request id (u64), length (u32), JSON job
  zygote -> caller: request id (u64), length (u32), status (u8), meta length (u32),
                    JSON meta, audio bytes
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import signal
import struct
import sys
import time
from collections import deque
from dataclasses import dataclass, field

from voxform.engine.libespeak import Espeak, SynthesisError
from voxform.engine.params import espeak_voice
from voxform.ice.limits import SAMPLE_RATES
from voxform.ice.wire import FORMATS, AudioFormat

FRAME = struct.Struct("<QI")  # request id, length
BODY = struct.Struct("<BI")  # status, meta length
OK, REJECTED, FAILED = 0, 1, 2
_FORMAT_NAMES: dict[str, AudioFormat] = {fmt: fmt for fmt in FORMATS}


@dataclass(frozen=True)
class Job:
    """One synthesis in espeak-ng's terms, as the zygote's child receives it."""

    ssml: str
    voice: str
    rate: int
    pitch: int
    volume: int
    fmt: AudioFormat
    sample_rate: int  # 0: the engine's own, not resampled
    deadline: float  # seconds the child may take
    draft: bool = False  # a quick, small MP3 (audio.encode)

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Job:
        data = json.loads(raw)
        return cls(
            ssml=str(data["ssml"]),
            voice=str(data["voice"]),
            rate=int(data["rate"]),
            pitch=int(data["pitch"]),
            volume=int(data["volume"]),
            fmt=_FORMAT_NAMES[str(data["fmt"])],
            sample_rate=int(data["sample_rate"]),
            deadline=float(data["deadline"]),
            draft=bool(data.get("draft", False)),
        )


def body(status: int, meta: dict[str, object], audio: bytes = b"") -> bytes:
    """An answer body: status, JSON meta and the encoded audio."""
    encoded = json.dumps(meta).encode()
    return BODY.pack(status, len(encoded)) + encoded + audio


def _warm_up(engine: Espeak) -> None:
    """Load what every child needs (the usual voice, filters, encoders); no synthesis."""
    import numpy as np

    from voxform.engine import audio

    engine.select_voice(espeak_voice(None, None, mandarin=False))
    silence = np.zeros(engine.sample_rate // 50, dtype=np.int16)
    for rate in SAMPLE_RATES:
        for fmt in FORMATS:
            audio.encode(audio.resample(silence, engine.sample_rate, rate), rate, fmt)
    half = engine.sample_rate // 2  # a review's previews (client.DRAFT_RATE)
    draft = audio.halve(silence)
    audio.draft_levels(draft, half, audio.encode(draft, half, "mp3", draft=True))


def _synthesize(engine: Espeak, job: Job) -> bytes:
    """The child's whole work: an answer body for `job`."""
    import numpy as np

    from voxform.engine import audio

    try:
        speech = engine.speak(
            job.ssml, voice=job.voice, rate=job.rate, pitch=job.pitch, volume=job.volume
        )
    except SynthesisError as exc:
        return body(REJECTED if exc.rejected else FAILED, {"error": str(exc)})
    samples = np.frombuffer(speech.samples, dtype="<i2")
    rate = job.sample_rate or speech.sample_rate  # 0: the engine's own rate
    if job.draft and 2 * rate == speech.sample_rate:
        resampled = audio.halve(samples)
    else:
        resampled = audio.resample(samples, speech.sample_rate, rate)
    encoded = audio.encode(resampled, rate, job.fmt, draft=job.draft)
    meta: dict[str, object] = {
        "duration": resampled.size / rate,
        "source_rate": speech.sample_rate,
        "sample_rate": rate,
        "events": speech.events,
    }
    if job.draft and job.fmt == "mp3":  # what a review page states of it, without decoding
        levels = audio.draft_levels(resampled, rate, encoded)
        meta.update(played=levels.duration, peaks=levels.peaks)
    return body(OK, meta, encoded)


@dataclass
class _Child:
    request_id: int
    pid: int
    fd: int
    deadline: float
    buffer: bytearray = field(default_factory=bytearray)
    overdue: bool = False


def main() -> None:
    """Entry point of the zygote process: serve requests on stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    workers = int(sys.argv[1])
    # The protocol gets its own descriptor; anything printed goes to stderr.
    answers = os.dup(1)
    os.dup2(2, 1)
    from voxform.engine import audio  # noqa: F401  (loaded once, before forking)

    engine = Espeak()
    _warm_up(engine)
    # Objects that exist now are shared with every child: keep the collector off them,
    # so children do not copy the pages it would touch.
    gc.collect()
    gc.freeze()
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, None)
    inbox = bytearray()
    queue: deque[tuple[int, bytes]] = deque()
    running: dict[int, _Child] = {}
    reading = True
    while reading or running:
        timeout = None
        if running:
            timeout = max(0.0, min(child.deadline for child in running.values()) - time.monotonic())
        for key, _ in selector.select(timeout):
            child = key.data
            if child is None:
                chunk = os.read(0, 1 << 16)
                if not chunk:  # the caller is gone or closed the engine
                    reading = False
                    selector.unregister(0)
                    continue
                inbox += chunk
                while len(inbox) >= FRAME.size:
                    request_id, length = FRAME.unpack_from(inbox)
                    if len(inbox) < FRAME.size + length:
                        break
                    queue.append((request_id, bytes(inbox[FRAME.size : FRAME.size + length])))
                    del inbox[: FRAME.size + length]
            else:
                assert isinstance(child, _Child)
                chunk = os.read(child.fd, 1 << 20)
                if chunk:
                    child.buffer += chunk
                    continue
                selector.unregister(child.fd)
                os.close(child.fd)
                del running[child.fd]
                reading = _answer_caller(reading, answers, child.request_id, _reap(child))
        now = time.monotonic()
        for child in running.values():
            if not child.overdue and now >= child.deadline:
                child.overdue = True
                _kill(child.pid)
        while reading and queue and len(running) < workers:
            request_id, payload = queue.popleft()
            try:
                job = Job.from_json(payload)
            except (ValueError, KeyError, TypeError) as exc:
                error = body(FAILED, {"error": f"unreadable request: {exc}"})
                reading = _answer_caller(reading, answers, request_id, error)
                continue
            child = _fork(engine, request_id, job, answers)
            running[child.fd] = child
            selector.register(child.fd, selectors.EVENT_READ, child)
        if not reading:
            queue.clear()
            for child in running.values():
                _kill(child.pid)


def _answer_caller(reading: bool, answers: int, request_id: int, answer: bytes) -> bool:
    """Send one answer; False once the caller can no longer be written to."""
    if reading:
        try:
            _write_all(answers, FRAME.pack(request_id, len(answer)) + answer)
        except OSError:
            return False
    return reading


def _fork(engine: Espeak, request_id: int, job: Job, answers: int) -> _Child:
    deadline = time.monotonic() + job.deadline
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one synthesis, then gone without running any cleanup
        code = 0
        try:
            gc.disable()
            os.close(read_end)
            os.close(answers)
            os.close(0)
            try:
                answer = _synthesize(engine, job)
            except Exception as exc:  # report it rather than die silently
                answer = body(FAILED, {"error": f"{type(exc).__name__}: {exc}"})
            _write_all(write_end, answer)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_end)
    return _Child(request_id, pid, read_end, deadline)


def _reap(child: _Child) -> bytes:
    """The child's answer once its pipe has closed, or an error body if it failed."""
    _, status = os.waitpid(child.pid, 0)
    if child.overdue:
        return body(FAILED, {"error": "synthesis took too long and was stopped"})
    if os.waitstatus_to_exitcode(status) != 0 or len(child.buffer) < BODY.size:
        return body(FAILED, {"error": f"synthesis crashed (wait status {status})"})
    return bytes(child.buffer)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
