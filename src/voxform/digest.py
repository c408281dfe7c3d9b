"""The `sha256:` digests the lockfile records."""

from __future__ import annotations

import hashlib


def digest(text: str) -> str:
    """The `sha256:` digest of `text` in UTF-8, as the lockfile writes it."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
