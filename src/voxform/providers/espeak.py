"""The offline engine: espeak-ng from the espeakng-loader wheel, byte-identical output.

espeak-ng keeps state between syntheses in one process and seeds its noise generator with
the clock, so the same text can sound slightly different each time. A "zygote" process
(started fresh, never forked from the caller, whose threads make forking unsafe) loads and
initializes espeak-ng but never synthesizes; it forks one child per request, and the child
fixes the seed, synthesizes, resamples and encodes, sends the file back and exits. Every
request thus starts from the same engine state and gives the same bytes, in any process.

Wire format, all integers little-endian:
  caller -> zygote: request id (u64), length (u32), JSON request
  zygote -> caller: request id (u64), length (u32), status (u8), meta length (u32),
                    JSON meta, audio bytes
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import re
import selectors
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import espeakng_loader

from voxform.errors import FatalError, ItemError
from voxform.providers.base import SAMPLE_RATES, AudioFormat, EditingConfig, Segment
from voxform.providers.espeak_ssml import (
    EVENT_END,
    EVENT_SENTENCE,
    EVENT_WORD,
    Script,
    translate,
)

_OUTPUT_VERSION = 1  # bump whenever the same input would give other bytes
_SEED = 1  # espeak-ng's noise generator seed (it uses time(NULL) otherwise)
_FORMATS: dict[str, AudioFormat] = {"mp3": "mp3", "wav": "wav", "pcm": "pcm"}
_FRAME = struct.Struct("<QI")  # request id, length
_BODY = struct.Struct("<BI")  # status, meta length
_OK, _REJECTED, _FAILED = 0, 1, 2

# espeak-ng's defaults: 175 words per minute (80..450), pitch 50 (0..100), volume 100.
_DEFAULT_RATE, _MIN_RATE, _MAX_RATE = 175, 80, 450
_DEFAULT_PITCH = 50

Gender = Literal["female", "male"]

# ICE voice ids whose gender we know; any other id (or a cloned voice) speaks as female.
_FEMALE_VOICES = """
xiaoyun ruoxi siqi sijia aiqi aijia ninger ruilin siyue aiya aixia aimei aiyu aiyue
aijing xiaomei aina yina sijing sitong xiaobei aitong aiwei aibao abby emily luna wendy
olivia annie ava lydia shanshan jiajia taozi kelly chuangirl qingqing cuijie tomoka
indah farah tala tien kyong masha camila perla clara hanna waan betty beth cally cindy
donna eva guijie stella rosa xiaoxian yuer maoxiaomei yaqun qiaowei laomei zhitian_emo
zhiyan_emo zhimiao_emo zhibei_emo
""".split()  # noqa: SIM905  (a table, easier to read as text)
_MALE_VOICES = """
xiaogang sicheng aicheng aida aishuo harry andy eric luca william brian david xiaoze
tomoya stanley kenny mashu aifei ailun dahu laotie aikan zhishuo
""".split()  # noqa: SIM905
_ICE_VOICES: dict[str, Gender] = {
    **dict.fromkeys(_FEMALE_VOICES, "female"),
    **dict.fromkeys(_MALE_VOICES, "male"),
}
_ESPEAK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+\-]{0,63}")


@dataclass(frozen=True)
class Synthesis:
    """One synthesized document."""

    audio: bytes  # encoded file bytes in the requested format
    duration: float  # seconds
    segments: tuple[Segment, ...]  # one per sentence


def _espeak_version() -> str:
    library = ctypes.CDLL(espeakng_loader.get_library_path())
    library.espeak_Info.restype = ctypes.c_char_p
    library.espeak_Info.argtypes = [ctypes.c_void_p]
    version: bytes = library.espeak_Info(None)
    return version.decode()


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


ENGINE_VERSION = (
    f"espeak-ng {_espeak_version()} (espeakng-loader {_package_version('espeakng-loader')}); "
    f"lameenc {_package_version('lameenc')}; voxform-local {_OUTPUT_VERSION}"
)


def rate_multiplier(rate: int) -> float:
    """ICE's speech_rate (or pitch_rate) -500..500 as a multiplier 0.5..2."""
    return 1 / (1 - 0.002 * rate) if rate < 0 else 1 / (1 - 0.001 * rate)


def espeak_rate(speech_rate: int) -> int:
    """Words per minute for espeak-ng."""
    wpm = int(_DEFAULT_RATE * rate_multiplier(speech_rate) + 0.5)
    return min(max(wpm, _MIN_RATE), _MAX_RATE)


def espeak_pitch(pitch_rate: int) -> int:
    """espeak-ng's base pitch 0..100: 50 scaled by the multiplier (-500 -> 25, 500 -> 100)."""
    return min(int(_DEFAULT_PITCH * rate_multiplier(pitch_rate) + 0.5), 100)


def espeak_voice(voice: str | None, customized_voice: str | None, *, mandarin: bool) -> str:
    """The espeak-ng voice name for an ICE voice id, a cloned voice or `espeak:<name>`."""
    if customized_voice is None and voice is not None and voice.lower().startswith("espeak:"):
        name = voice[len("espeak:") :]
        if not _ESPEAK_NAME.fullmatch(name):
            raise ItemError(f"invalid espeak-ng voice name {name!r}", code="InvalidParameter")
        return name
    gender = "female" if customized_voice is not None else _ICE_VOICES.get((voice or "").lower())
    language = "cmn" if mandarin else "en-us"
    return f"{language}+{'m3' if gender == 'male' else 'f3'}"


@dataclass(frozen=True)
class _Job:
    """One synthesis as the zygote's child receives it."""

    ssml: str
    voice: str
    rate: int
    pitch: int
    volume: int
    fmt: AudioFormat
    sample_rate: int
    deadline: float  # seconds the child may take

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> _Job:
        data = json.loads(raw)
        return cls(
            ssml=str(data["ssml"]),
            voice=str(data["voice"]),
            rate=int(data["rate"]),
            pitch=int(data["pitch"]),
            volume=int(data["volume"]),
            fmt=_FORMATS[str(data["fmt"])],
            sample_rate=int(data["sample_rate"]),
            deadline=float(data["deadline"]),
        )


def _check(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ItemError(
            f"{name} must be a whole number from {low} to {high}, not {value!r}",
            code="InvalidParameter",
        )
    return value


# ---------------------------------------------------------------------------------------
# The caller's side


@dataclass
class _Call:
    """One request waiting for the zygote's answer."""

    done: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    error: FatalError | None = None


class LocalEngine:
    """espeak-ng behind a zygote process: thread-safe, byte-identical output per input."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers if workers is not None else os.cpu_count() or 1
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        self._slots = threading.BoundedSemaphore(self.workers)
        self._lock = threading.Lock()  # guards everything below
        self._write_lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._calls: dict[int, _Call] = {}
        self._next_id = 1
        self._failure: str | None = None  # why the zygote can no longer be used
        self._closed = False

    def __enter__(self) -> LocalEngine:
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
    ) -> Synthesis:
        """Speak an Alibaba SSML document (or plain text); ItemError for bad input.

        The `<speak>` element's rate, pitch, volume and voice attributes win over the
        arguments; its encodeType and sampleRate do not (the caller names the file).
        """
        if fmt not in _FORMATS:
            raise ItemError(f"unknown audio format {fmt!r}", code="InvalidParameter")
        if sample_rate not in SAMPLE_RATES:
            raise ItemError(
                f"sample rate must be one of {', '.join(map(str, SAMPLE_RATES))}, "
                f"not {sample_rate!r}",
                code="InvalidParameter",
            )
        script = translate(ssml)
        settings = script.settings
        speech_rate = _check("speech_rate", _or(settings.rate, speech_rate), -500, 500)
        pitch_rate = _check("pitch_rate", _or(settings.pitch, pitch_rate), -500, 500)
        volume = _check("volume", _or(settings.volume, volume), 0, 100)
        if settings.voice is not None:  # the document's own voice wins
            voice, customized_voice = settings.voice, None
        job = _Job(
            ssml=script.ssml,
            voice=espeak_voice(voice, customized_voice, mandarin=script.mandarin),
            rate=espeak_rate(speech_rate),
            pitch=espeak_pitch(pitch_rate),
            volume=2 * volume,
            fmt=fmt,
            sample_rate=sample_rate,
            deadline=60.0 + 0.01 * len(script.ssml),
        )
        return _answer(script, self._run(job))

    def synthesize_config(self, ssml: str, editing: EditingConfig, sample_rate: int) -> Synthesis:
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
        )

    def close(self) -> None:
        """Stop the zygote and its children; calls still waiting get FatalError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            process, reader = self._process, self._reader
        if process is not None:
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

    def _run(self, job: _Job) -> bytes:
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
            payload = job.to_json()
            try:
                with self._write_lock:
                    assert process.stdin is not None
                    process.stdin.write(_FRAME.pack(request_id, len(payload)) + payload)
                    process.stdin.flush()
            except (OSError, ValueError):
                pass  # the reader notices the zygote's end and fails the call
            if not call.done.wait(job.deadline + 30.0):
                self._kill(f"the local engine did not answer within {job.deadline + 30:.0f} s")
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
                "from voxform.providers.espeak import _zygote_main; _zygote_main()",
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
        while True:
            header = stream.read(_FRAME.size)
            if len(header) < _FRAME.size:
                break
            request_id, length = _FRAME.unpack(header)
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
    status, meta_length = _BODY.unpack_from(body)
    meta = json.loads(body[_BODY.size : _BODY.size + meta_length])
    if status != _OK:
        code = "InvalidParameter" if status == _REJECTED else "SynthesisFailed"
        raise ItemError(f"local engine: {meta['error']}", code=code)
    duration = float(meta["duration"])
    source_rate = float(meta["source_rate"])
    events = [
        (int(kind), int(position), sample / source_rate)
        for kind, position, sample in meta["events"]
    ]
    return Synthesis(
        audio=body[_BODY.size + meta_length :],
        duration=duration,
        segments=script.segments(events, duration),
    )


# ---------------------------------------------------------------------------------------
# The zygote's side


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_void_p),  # a union of int, const char * and char[8]
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8, _SSML = 0x01, 0x10
_EVENT_LIST_TERMINATED = 0
_TIMING_EVENTS = frozenset({EVENT_WORD, EVENT_SENTENCE, EVENT_END})
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH = 1, 2, 3
_BUFFER_MS = 500  # audio per callback


class _Espeak:
    """espeak-ng loaded and initialized in this process; synthesize at most once."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data = espeakng_loader.get_data_path().encode()
        rate: int = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data, _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate}) with data at {data!r}")
        self.lib = lib
        self.sample_rate = rate
        self.chunks: list[bytes] = []
        self.events: list[tuple[int, int, int]] = []
        self.callback = _SynthCallback(self._collect)  # kept alive with self
        lib.espeak_SetSynthCallback(self.callback)

    def _collect(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]
    ) -> int:
        if count > 0:
            self.chunks.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type in _TIMING_EVENTS:
                self.events.append((event.type, event.text_position, event.sample))
            i += 1
        return 0

    def warm_up(self) -> None:
        """Load what every child needs (the usual voice, filters, encoders); no synthesis."""
        import numpy as np

        from voxform.providers import audio

        self.lib.espeak_SetVoiceByName(espeak_voice(None, None, mandarin=False).encode())
        silence = np.zeros(self.sample_rate // 50, dtype=np.int16)
        for rate in SAMPLE_RATES:
            for fmt in _FORMATS.values():
                audio.encode(audio.resample(silence, self.sample_rate, rate), rate, fmt)

    def synthesize(self, job: _Job) -> bytes:
        """The child's whole work: an answer body for `job`."""
        from voxform.providers import audio

        lib = self.lib
        if lib.espeak_SetVoiceByName(job.voice.encode()) != 0:
            return _body(_REJECTED, {"error": f"espeak-ng has no voice {job.voice!r}"})
        lib.espeak_SetParameter(_PARAM_RATE, job.rate, 0)
        lib.espeak_SetParameter(_PARAM_PITCH, job.pitch, 0)
        lib.espeak_SetParameter(_PARAM_VOLUME, job.volume, 0)
        lib.espeak_ng_SetRandSeed(_SEED)
        text = job.ssml.encode()
        status = lib.espeak_Synth(
            text, len(text) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _SSML, None, None
        )
        if status != 0:
            return _body(_FAILED, {"error": f"espeak_Synth failed with status {status}"})
        import numpy as np

        samples = np.frombuffer(b"".join(self.chunks), dtype="<i2").astype(np.int16)
        resampled = audio.resample(samples, self.sample_rate, job.sample_rate)
        meta = {
            "duration": resampled.size / job.sample_rate,
            "source_rate": self.sample_rate,
            "events": self.events,
        }
        return _body(_OK, meta, audio.encode(resampled, job.sample_rate, job.fmt))


def _body(status: int, meta: dict[str, object], audio: bytes = b"") -> bytes:
    encoded = json.dumps(meta).encode()
    return _BODY.pack(status, len(encoded)) + encoded + audio


@dataclass
class _Child:
    request_id: int
    pid: int
    fd: int
    deadline: float
    buffer: bytearray = field(default_factory=bytearray)
    overdue: bool = False


def _zygote_main() -> None:
    """Entry point of the zygote process: serve requests on stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    workers = int(sys.argv[1])
    # The protocol gets its own descriptor; anything printed goes to stderr.
    answers = os.dup(1)
    os.dup2(2, 1)
    from voxform.providers import audio  # noqa: F401  (loaded once, before forking)

    engine = _Espeak()
    engine.warm_up()
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
                while len(inbox) >= _FRAME.size:
                    request_id, length = _FRAME.unpack_from(inbox)
                    if len(inbox) < _FRAME.size + length:
                        break
                    queue.append((request_id, bytes(inbox[_FRAME.size : _FRAME.size + length])))
                    del inbox[: _FRAME.size + length]
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
                job = _Job.from_json(payload)
            except (ValueError, KeyError, TypeError) as exc:
                error = _body(_FAILED, {"error": f"unreadable request: {exc}"})
                reading = _answer_caller(reading, answers, request_id, error)
                continue
            child = _fork(engine, request_id, job, answers)
            running[child.fd] = child
            selector.register(child.fd, selectors.EVENT_READ, child)
        if not reading:
            queue.clear()
            for child in running.values():
                _kill(child.pid)


def _answer_caller(reading: bool, answers: int, request_id: int, body: bytes) -> bool:
    """Send one answer; False once the caller can no longer be written to."""
    if reading:
        try:
            _write_all(answers, _FRAME.pack(request_id, len(body)) + body)
        except OSError:
            return False
    return reading


def _fork(engine: _Espeak, request_id: int, job: _Job, answers: int) -> _Child:
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
                body = engine.synthesize(job)
            except Exception as exc:  # report it rather than die silently
                body = _body(_FAILED, {"error": f"{type(exc).__name__}: {exc}"})
            _write_all(write_end, body)
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
        return _body(_FAILED, {"error": "synthesis took too long and was stopped"})
    if os.waitstatus_to_exitcode(status) != 0 or len(child.buffer) < _BODY.size:
        return _body(_FAILED, {"error": f"synthesis crashed (wait status {status})"})
    return bytes(child.buffer)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
