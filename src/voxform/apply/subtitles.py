"""Sentence timings as WebVTT and SRT subtitle files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voxform.errors import ItemError, PathEscapeError
from voxform.files import UnsafeFileError, write_atomic
from voxform.ice.wire import Segment
from voxform.paths import below
from voxform.state.outputs import FileDigest, digest_of


def _stamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_text(content: str) -> str:
    """The segment's lines without blank ones: a blank line would end the cue."""
    return "\n".join(line for raw in content.splitlines() if (line := raw.strip()))


def _vtt_escape(text: str) -> str:
    """WebVTT cue text is markup: `&`, `<` and `>` are written as character references
    (which also keeps a spoken "-->" from reading as a timing line)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(segments: Sequence[Segment]) -> str:
    """A WebVTT document, one cue per segment."""
    cues = [
        f"{_stamp(s.start, '.')} --> {_stamp(s.end, '.')}\n{_vtt_escape(text)}\n"
        for s in segments
        if (text := _cue_text(s.content))
    ]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_srt(segments: Sequence[Segment]) -> str:
    """An SRT document, cues numbered from 1.

    The text goes verbatim: SubRip has no escape syntax, and the players that read it
    (ffmpeg, mpv, VLC) show `&amp;` as those five characters, so escaping would print
    entities where the narration said `&`."""
    cues = [(s, text) for s in segments if (text := _cue_text(s.content))]
    return "\n".join(
        f"{n}\n{_stamp(s.start, ',')} --> {_stamp(s.end, ',')}\n{text}\n"
        for n, (s, text) in enumerate(cues, start=1)
    )


def write_subtitles(
    root: Path, base: str, segments: Sequence[Segment]
) -> tuple[dict[str, str], dict[str, FileDigest]]:
    """Write `<base>.vtt` and `<base>.srt` inside the project; return their relative paths
    by format, and their digests by path.

    A place outside the project, or a symlink on the way (as a folder or in place of a
    file), fails the item (ItemError), never the run, and nothing is written through it."""
    folder, _, name = base.rpartition("/")
    try:
        directory = below(root, folder) if folder else root
    except PathEscapeError as exc:
        raise ItemError(f"subtitles {exc}", code="InvalidOutput") from exc
    written, digests = {}, {}
    for ext, render in (("vtt", to_vtt), ("srt", to_srt)):
        data = render(segments).encode("utf-8")
        try:
            # Not fsync'd: derived from the job's timings, and at thousands of items the
            # syncs would cost more than the rest of apply's client work together.
            write_atomic(directory / f"{name}.{ext}", data, durable=False, root=root)
        except UnsafeFileError as exc:
            raise ItemError(f"subtitles: {exc}", code="InvalidOutput") from exc
        written[ext] = f"{base}.{ext}"
        digests[written[ext]] = digest_of(data)
    return written, digests
