"""The emulator's lines on stderr: each written whole, whatever thread writes it.

print() writes a line and its newline in two calls, so handler threads answering at once
interleave their lines ("POST A 200POST B 200\n\n"); a reader of `-v` must get one request
per line. One lock and one write per line.
"""

from __future__ import annotations

import sys
import threading

_LOCK = threading.Lock()


def stderr_line(line: str) -> None:
    """Write `line` and a newline to stderr in one write, flushed, under one lock."""
    with _LOCK:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
