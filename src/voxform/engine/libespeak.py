"""espeak-ng through ctypes, from the espeakng-loader wheel (no system packages).

Loading the library is deferred to first use: importing voxform never touches it.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from functools import cache
from importlib import metadata

import espeakng_loader

from voxform.engine.ssml import EVENT_END, EVENT_SENTENCE, EVENT_WORD

OUTPUT_VERSION = 2  # bump whenever the same input would give other bytes
SEED = 1  # espeak-ng's noise generator seed (it uses time(NULL) otherwise)


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


def _library() -> ctypes.CDLL:
    return ctypes.CDLL(espeakng_loader.get_library_path())


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


@cache
def engine_version() -> str:
    """Names every part that decides the local engine's bytes; it enters the fingerprint."""
    library = _library()
    library.espeak_Info.restype = ctypes.c_char_p
    library.espeak_Info.argtypes = [ctypes.c_void_p]
    espeak: bytes = library.espeak_Info(None)
    return (
        f"espeak-ng {espeak.decode()} (espeakng-loader {_package_version('espeakng-loader')}); "
        f"lameenc {_package_version('lameenc')}; voxform-local {OUTPUT_VERSION}"
    )


class SynthesisError(Exception):
    """espeak-ng refused a voice or failed to synthesize."""

    def __init__(self, message: str, *, rejected: bool) -> None:
        super().__init__(message)
        self.rejected = rejected  # the input was at fault, not the engine


@dataclass(frozen=True)
class Speech:
    """Raw engine output: 16-bit mono samples at the engine's rate, and timing events."""

    samples: bytes
    sample_rate: int
    events: list[tuple[int, int, int]]  # (event type, 1-based text position, sample)


class Espeak:
    """espeak-ng loaded and initialized in this process; synthesize at most once."""

    def __init__(self) -> None:
        lib = _library()
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

    def select_voice(self, voice: str) -> bool:
        """Load an espeak-ng voice by name; False when there is no such voice."""
        return bool(self.lib.espeak_SetVoiceByName(voice.encode()) == 0)

    def speak(self, ssml: str, *, voice: str, rate: int, pitch: int, volume: int) -> Speech:
        """Synthesize one SSML document with a fixed noise seed (once per process)."""
        lib = self.lib
        if not self.select_voice(voice):
            raise SynthesisError(f"espeak-ng has no voice {voice!r}", rejected=True)
        lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
        lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
        lib.espeak_SetParameter(_PARAM_VOLUME, volume, 0)
        lib.espeak_ng_SetRandSeed(SEED)
        text = ssml.encode()
        status = lib.espeak_Synth(
            text, len(text) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8 | _SSML, None, None
        )
        if status != 0:
            raise SynthesisError(f"espeak_Synth failed with status {status}", rejected=False)
        return Speech(b"".join(self.chunks), self.sample_rate, self.events)
