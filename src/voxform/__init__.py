"""voxform: declarative narration pipeline."""

import sys as _sys

__version__ = "0.1.0"

# httpx's package imports its command-line client (httpx._main: rich's console, pygments'
# lexers, a syntax table) whenever those are installed, which rich's are: 40-90 ms of every
# command that opens a client, for a `main` voxform never calls. A None entry is Python's
# way of saying a module is not there: httpx then defines its stand-in `main` and goes on.
# Nothing is done if httpx is already imported (its `_main` is then whatever it is).
if "httpx" not in _sys.modules:
    _sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
