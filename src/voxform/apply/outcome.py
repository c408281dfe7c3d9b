"""What an apply did, as the reporters show it."""

from __future__ import annotations

from dataclasses import dataclass, field

from voxform.errors import FatalError


@dataclass
class Outcome:
    """Items finished and failed, what they cost, and how the run ended."""

    finished: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # id, code, message
    characters: int = 0
    audio_seconds: float = 0.0
    interrupted: bool = False
    fatal: FatalError | None = None
    seconds: float = 0.0
