"""The Chromium that the browser tests drive: the OS package (`apt-get install chromium`),
driven by playwright-python, never a browser build that playwright downloads.

One finder for the browser fixture (tests/review/) and for pytest's report, which says which
Chromium the browser tests use, or plainly that they are skipped and why.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess

INSTALL = "apt-get install chromium, or set VOXFORM_CHROMIUM to a Chromium"
PLAYWRIGHT_MISSING = "playwright is not installed (pip install -e '.[test]')"


def find_chromium() -> str | None:
    """$VOXFORM_CHROMIUM when set (an executable file, else None), otherwise chromium or
    chromium-browser on PATH."""
    named = os.environ.get("VOXFORM_CHROMIUM")
    if named:
        return named if os.path.isfile(named) and os.access(named, os.X_OK) else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def skip_reason() -> str | None:
    """Why the browser tests are skipped here, or None when they can run."""
    if importlib.util.find_spec("playwright") is None:
        return PLAYWRIGHT_MISSING
    if find_chromium() is None:
        named = os.environ.get("VOXFORM_CHROMIUM")
        if named:
            return f"VOXFORM_CHROMIUM={named} is not an executable file"
        return f"no Chromium on PATH ({INSTALL})"
    return None


@functools.cache
def chromium_version(path: str) -> str:
    """What `chromium --version` says ("Chromium 156.0.8078.129 built on Debian ..."), or
    why it said nothing."""
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"version unknown: {error}"
    lines = done.stdout.strip().splitlines()
    return lines[0] if lines and done.returncode == 0 else f"--version exit {done.returncode}"


def report() -> str:
    """One line: the Chromium the browser tests use, or that they are skipped and why."""
    reason = skip_reason()
    if reason is not None:
        return f"browser tests: SKIPPED, {reason}"
    path = find_chromium()
    assert path is not None
    return f"browser tests: {chromium_version(path)} at {path}"
