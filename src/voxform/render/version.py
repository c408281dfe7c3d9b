"""What the caches in `.voxform/` take as the version of voxform's rendering.

Bump RENDER_VERSION with any change that can make the same inputs render or chunk
differently (a template helper, the SSML checks or their messages, canonical SSML, chunking,
Markdown parsing, a digest): caches made before it are then ignored, never trusted.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from voxform import __version__

RENDER_VERSION = 1

# Libraries whose code can change what a chunk or a template renders to: found, not
# imported (a plan whose sources and renders are all cached imports no markdown-it).
_LIBRARIES = ("jinja2", "markupsafe", "markdown_it", "sentencex")


def render_identity() -> str:
    """RENDER_VERSION with voxform's version and a digest of the code of each library
    rendering reads (by content, not mtime: a CI job installs them afresh each run)."""
    parts = [f"render {RENDER_VERSION}", f"voxform {__version__}"]
    parts += [f"{name} {_code_digest(name)}" for name in _LIBRARIES]
    return "; ".join(parts)


@cache
def _code_digest(name: str) -> str:
    """The sha256 of the package's `__init__.py` (where a version is written) and of its
    compiled extensions (where a version may be all that changed)."""
    spec = find_spec(name)
    init = Path(spec.origin if spec is not None and spec.origin else "")
    hashed = hashlib.sha256()
    for path in [init, *sorted(init.parent.iterdir())]:
        if (path == init or path.suffix in (".so", ".pyd")) and path.is_file():
            hashed.update(f"{path.name}\0{path.stat().st_size}\0".encode())
            hashed.update(path.read_bytes())
    return hashed.hexdigest()[:16]
