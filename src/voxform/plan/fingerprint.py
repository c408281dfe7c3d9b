"""Fingerprints: a SHA-256 over everything that changes the audio, and nothing else."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from json.encoder import encode_basestring

from voxform.digest import digest
from voxform.ice.wire import EditingConfig
from voxform.render.model import RenderedItem

FINGERPRINT_VERSION = 1


@lru_cache(maxsize=64)
def engine_digest(provider: str, engine_version: str | None) -> str:
    """Digest of the backend that turns a request into audio."""
    return digest(json.dumps({"engine": engine_version, "provider": provider}, sort_keys=True))


def fingerprint(
    rendered: RenderedItem, provider: str, engine_version: str | None, *, legacy: bool = False
) -> str:
    """The item's fingerprint; Title, Description and UserData are deliberately left out.
    With `legacy`, over the input as spelt before SSML was made canonical (what older
    lockfiles recorded), so that upgrading voxform pays for nothing.

    The canonical JSON of {editing, engine, input, output, provider, version} with sorted
    keys, no spaces, UTF-8: what stays the same for a voice and a backend is encoded once,
    and each value by itself, as json.dumps would."""
    spelt = rendered.legacy_input if legacy and rendered.legacy_input else rendered.request.input
    return _fingerprint(rendered, encode_basestring(spelt), provider, engine_version)


def _fingerprint(
    rendered: RenderedItem, spelt: str, provider: str, engine_version: str | None
) -> str:
    """`fingerprint` of `rendered` with its input as `spelt` (JSON-encoded already)."""
    head, tail = _shared(_fixed, rendered.request.editing, engine_version, provider)
    encoded = "".join(
        (head, spelt, ',"output":', encode_basestring(rendered.digests["output"]), tail)
    )
    return "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


_Spelt = Callable[[EditingConfig, "str | None", str], tuple[str, str]]
# (spelling, id of the editing, engine, provider) -> (editing, its spelling): the items of a
# voice share one EditingConfig (render/assemble.py), and hashing it, a dataclass, costs
# more than the rest of a lookup.
_SHARED: dict[tuple[_Spelt, int, str | None, str], tuple[EditingConfig, tuple[str, str]]] = {}


def _shared(
    spell: _Spelt, editing: EditingConfig, engine_version: str | None, provider: str
) -> tuple[str, str]:
    """`spell(editing, engine_version, provider)`, kept for the editing object itself."""
    key = (spell, id(editing), engine_version, provider)
    found = _SHARED.get(key)
    if found is None or found[0] is not editing:
        if len(_SHARED) > 1024:
            _SHARED.clear()
        found = _SHARED[key] = (editing, spell(editing, engine_version, provider))
    return found[1]


@lru_cache(maxsize=256)
def _fixed(editing: EditingConfig, engine_version: str | None, provider: str) -> tuple[str, str]:
    """The encoding before the input and after the output."""
    head = f'{{"editing":{_json(editing.to_wire())},"engine":{_json(engine_version)},"input":'
    tail = f',"provider":{_json(provider)},"version":{_json(FINGERPRINT_VERSION)}}}'
    return head, tail


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audio_digest(rendered: RenderedItem, provider: str, engine_version: str | None) -> str:
    """What the audio is, wherever it is written: the fingerprint's parts without the
    output location (its encoding, format and sample rate, stays). Two items with the same
    audio digest sound the same, so one can be made from the other by a copy.

    The canonical JSON of {audio, editing, engine, input, provider, sample_rate}, encoded
    as `fingerprint` is: the parts a voice and a backend share once, each value by itself."""
    spelt = encode_basestring(rendered.request.input)
    return _audio_digest(rendered, spelt, provider, engine_version)


def _audio_digest(
    rendered: RenderedItem, spelt: str, provider: str, engine_version: str | None
) -> str:
    """`audio_digest` of `rendered` with its input as `spelt` (JSON-encoded already)."""
    request = rendered.request
    head, tail = _shared(_audio_fixed, request.editing, engine_version, provider)
    encoded = f"{head}{spelt}{tail}{request.sample_rate:d}}}"
    return "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def prints_of(rendered: RenderedItem, provider: str, engine_version: str | None) -> tuple[str, str]:
    """(fingerprint, audio_digest) of `rendered`, its input encoded once for both (a plan
    works them out for each of 100,000 items)."""
    spelt = encode_basestring(rendered.request.input)
    return (
        _fingerprint(rendered, spelt, provider, engine_version),
        _audio_digest(rendered, spelt, provider, engine_version),
    )


@lru_cache(maxsize=256)
def _audio_fixed(
    editing: EditingConfig, engine_version: str | None, provider: str
) -> tuple[str, str]:
    """The audio digest's encoding before the input, and after it up to the sample rate."""
    head = (
        f'{{"audio":{_json(FINGERPRINT_VERSION)},"editing":{_json(editing.to_wire())},'
        f'"engine":{_json(engine_version)},"input":'
    )
    return head, f',"provider":{_json(provider)},"sample_rate":'
