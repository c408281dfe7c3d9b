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


def fingerprint(rendered: RenderedItem, provider: str, engine_version: str | None) -> str:
    """The item's fingerprint; Title, Description and UserData are deliberately left out."""
    request = rendered.request
    canonical = {
        "editing": request.editing.to_wire(),
        "engine": engine_version,
        "input": request.input,
        "output": rendered.digests["output"],
        "provider": provider,
        "version": FINGERPRINT_VERSION,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()
