"""Sentence timings as WebVTT and SRT subtitle files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voxform.errors import ItemError, PathEscapeError
from voxform.files import write_atomic
from voxform.ice.wire import Segment
from voxform.paths import inside


def _stamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_vtt(segments: Sequence[Segment]) -> str:
    """A WebVTT document, one cue per segment."""
    cues = [
        f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{s.content.strip()}\n"
        for s in segments
        if s.content.strip()
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_srt(segments: Sequence[Segment]) -> str:
    """An SRT document, cues numbered from 1."""
    cues = [s for s in segments if s.content.strip()]
    return "\n".join(
        f"{n}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{s.content.strip()}\n"
        for n, s in enumerate(cues, start=1)
    )


def write_subtitles(root: Path, base: str, segments: Sequence[Segment]) -> dict[str, str]:
    """Write `<base>.vtt` and `<base>.srt` inside the project; return their relative paths.

    A place outside the project fails the item (ItemError), never the run."""
    written = {}
    for ext, render in (("vtt", to_vtt), ("srt", to_srt)):
        relative = f"{base}.{ext}"
        try:
            path = inside(root, relative)
        except PathEscapeError as exc:
            raise ItemError(f"subtitles {exc}", code="InvalidOutput") from exc
        write_atomic(path, render(segments).encode("utf-8"))
        written[ext] = relative
    return written
