"""An item's inputs as the lockfile keeps them, so that plan can say what changed.

Digests for what is long (the text before and after the lexicon, the SSML, the voice
settings together, where the audio goes), and the values themselves for what is short (a
voice id, a volume, a template name, a sample rate), so that a reason can read
"sample rate 16000 -> 24000". The fingerprint decides *whether* an item changed; these only
explain it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import count
from json.encoder import encode_basestring_ascii

from voxform.digest import digest
from voxform.endpoints import endpoint_identity
from voxform.ice.wire import AudioRequest, EditingConfig
from voxform.manifest.model import Target

SHOWN = 40  # values longer than this are only digested


Core = tuple[str, str, str, str, str]  # the digests of source, text, ssml, output, location


def core_digests(
    source: str, text: str, ssml: str, target: Target, request: AudioRequest, template: str
) -> Core:
    """The digests that differ from item to item. `source`: the item's text as written;
    `text`: after the lexicon; `ssml`: the canonical template output."""
    source_digest = digest(source)
    place = _place(target, request.editing.format, request.sample_rate, template)
    key = encode_basestring_ascii(request.object_key)  # as json.dumps writes a string
    return (
        source_digest,
        source_digest if text == source else digest(text),
        digest(ssml),
        digest(key.join(place.output)),
        digest(key.join(place.location)),
    )


def item_digests(
    core: Core, target: Target, request: AudioRequest, template: str
) -> dict[str, str]:
    """All of an item's digests and shown values, in the lockfile's order."""
    place = _place(target, request.editing.format, request.sample_rate, template)
    return {
        "source": core[0],
        "text": core[1],
        "ssml": core[2],
        **_voice_digests(request.editing),
        "output": core[3],
        "location": core[4],
        **place.shown,
    }


@lru_cache(maxsize=256)
def _voice_digests(editing: EditingConfig) -> dict[str, str]:
    """The voice's part, the same for every item it speaks (callers copy it)."""
    values = {
        "voice_id": editing.voice or editing.customized_voice or "",
        "volume": str(editing.volume),
        "speech_rate": str(editing.speech_rate),
        "pitch_rate": str(editing.pitch_rate),
    }
    return {
        "voice": digest(replace(editing, format="mp3").to_json()),  # format counts as output
        **{k: v for k, v in values.items() if len(v) <= SHOWN},
    }


@dataclass(frozen=True)
class _Place:
    """A target's encodings around an object key: what comes before and after it."""

    output: tuple[str, str]
    location: tuple[str, str]
    shown: dict[str, str]


@lru_cache(maxsize=256)
def _place(target: Target, audio_format: str, sample_rate: int, template: str) -> _Place:
    place: dict[str, object] = {
        "provider": target.provider,
        "path": target.path,
        "bucket": target.bucket,
        "region": target.region,
    }
    shown = {"format": audio_format, "sample_rate": str(sample_rate)}
    if target.endpoint is not None:
        # Only when set, so that every digest made before endpoints counted stays the same.
        # VOXFORM_ICE_ENDPOINT is left out: it points a test run at an emulator, and every
        # run would otherwise differ from the lockfile.
        endpoint = endpoint_identity(target.endpoint)
        place["endpoint"] = endpoint
        if len(endpoint) <= SHOWN and _plain(endpoint):
            shown["endpoint"] = endpoint
    encoded = {**place, "format": audio_format, "sample_rate": sample_rate}
    if len(template) <= SHOWN:
        shown["template"] = template
    return _Place(_around(encoded), _around(place), shown)


def _around(document: dict[str, object]) -> tuple[str, str]:
    """`document`'s canonical JSON with an object key, split where the key goes: each value
    is encoded by itself, so any key's encoding fits in between. The key's stand-in is one
    that no setting spells."""
    for number in count():
        raw = f"\0object {number}\0"
        parts = _encode({**document, "object": raw}).split(_encode(raw))
        if len(parts) == 2:
            return parts[0], parts[1]
    raise AssertionError("unreachable")


def _plain(value: str) -> bool:
    """Fit to be kept in the lockfile as it is: never a password, never a line break."""
    return value.isascii() and value.isprintable() and "@" not in value


def _encode(document: object) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
