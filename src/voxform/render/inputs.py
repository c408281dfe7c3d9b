"""An item's inputs as the lockfile keeps them, so that plan can say what changed.

Digests for what is long (the text before and after the lexicon, the SSML, the voice
settings together, where the audio goes), and the values themselves for what is short (a
voice id, a volume, a template name, a sample rate), so that a reason can read
"sample rate 16000 -> 24000". The fingerprint decides *whether* an item changed; these only
explain it.
"""

from __future__ import annotations

import json
from dataclasses import replace

from voxform.digest import digest
from voxform.endpoints import endpoint_identity
from voxform.ice.wire import AudioRequest, EditingConfig
from voxform.manifest.model import Target

SHOWN = 40  # values longer than this are only digested


def input_digests(source: str, text: str, ssml: str, editing: EditingConfig) -> dict[str, str]:
    """`source`: the item's text as written; `text`: after the lexicon; `ssml`: the
    canonical template output."""
    values = {
        "voice_id": editing.voice or editing.customized_voice or "",
        "volume": str(editing.volume),
        "speech_rate": str(editing.speech_rate),
        "pitch_rate": str(editing.pitch_rate),
    }
    return {
        "source": digest(source),
        "text": digest(text),
        "ssml": digest(ssml),
        "voice": digest(replace(editing, format="mp3").to_json()),  # format counts as output
        **{k: v for k, v in values.items() if len(v) <= SHOWN},
    }


def output_digests(target: Target, request: AudioRequest, template: str) -> dict[str, str]:
    """Where the audio lands (`location`), and with its encoding (`output`), as digests;
    format, sample rate and the template's name as values."""
    place: dict[str, object] = {
        "provider": target.provider,
        "path": target.path,
        "bucket": target.bucket,
        "region": target.region,
        "object": request.object_key,
    }
    shown = {"format": request.editing.format, "sample_rate": str(request.sample_rate)}
    if target.endpoint is not None:
        # Only when set, so that every digest made before endpoints counted stays the same.
        # VOXFORM_ICE_ENDPOINT is left out: it points a test run at an emulator, and every
        # run would otherwise differ from the lockfile.
        endpoint = endpoint_identity(target.endpoint)
        place["endpoint"] = endpoint
        if len(endpoint) <= SHOWN and _plain(endpoint):
            shown["endpoint"] = endpoint
    encoded = {**place, "format": request.editing.format, "sample_rate": request.sample_rate}
    if len(template) <= SHOWN:
        shown["template"] = template
    return {"output": _digest(encoded), "location": _digest(place), **shown}


def _plain(value: str) -> bool:
    """Fit to be kept in the lockfile as it is: never a password, never a line break."""
    return value.isascii() and value.isprintable() and "@" not in value


def _digest(document: dict[str, object]) -> str:
    return digest(json.dumps(document, sort_keys=True, separators=(",", ":")))
