"""Fingerprints: a SHA-256 over everything that changes the audio, and nothing else."""

from __future__ import annotations

import hashlib
import json

from voxform.digest import digest
from voxform.render.model import RenderedItem

FINGERPRINT_VERSION = 1


def engine_digest(provider: str, engine_version: str | None) -> str:
    """Digest of the backend that turns a request into audio."""
    return digest(json.dumps({"engine": engine_version, "provider": provider}, sort_keys=True))


def fingerprint(
    rendered: RenderedItem, provider: str, engine_version: str | None, *, legacy: bool = False
) -> str:
    """The item's fingerprint; Title, Description and UserData are deliberately left out.
    With `legacy`, over the input as spelt before SSML was made canonical (what older
    lockfiles recorded), so that upgrading voxform pays for nothing."""
    request = rendered.request
    spelt = rendered.legacy_input if legacy and rendered.legacy_input else request.input
    canonical = {
        "editing": request.editing.to_wire(),
        "engine": engine_version,
        "input": spelt,
        "output": rendered.digests["output"],
        "provider": provider,
        "version": FINGERPRINT_VERSION,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def audio_digest(rendered: RenderedItem, provider: str, engine_version: str | None) -> str:
    """What the audio is, wherever it is written: the fingerprint's parts without the
    output location (its encoding, format and sample rate, stays). Two items with the same
    audio digest sound the same, so one can be made from the other by a copy."""
    request = rendered.request
    canonical = {
        "audio": FINGERPRINT_VERSION,
        "editing": request.editing.to_wire(),
        "engine": engine_version,
        "input": request.input,
        "provider": provider,
        "sample_rate": request.sample_rate,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()
