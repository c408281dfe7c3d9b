"""Sentence timings as WebVTT and SRT subtitle files."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from voxform.errors import ItemError, PathEscapeError
from voxform.files import UnsafeFileError, check_writable_files, write_atomic_files
from voxform.ice.wire import Segment
from voxform.paths import below
from voxform.plan.plan import UNSTORED
from voxform.providers.protocol import JobResult
from voxform.state.outputs import FileDigest, digest_of, remember_written

FORMATS = ("vtt", "srt")


def _stamp(seconds: float) -> tuple[str, str]:
    """`HH:MM:SS` and `mmm` of `seconds`, rounded to the millisecond (a time before the start
    is the start); WebVTT joins them with a dot, SRT with a comma."""
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}", f"{millis:03d}"


def _cue_text(content: str) -> str:
    """The segment's lines without blank ones: a blank line would end the cue."""
    if content.isprintable():  # no line break of any kind (each is unprintable): one line
        return content.strip()
    return "\n".join(line for raw in content.splitlines() if (line := raw.strip()))


def _vtt_escape(text: str) -> str:
    """WebVTT cue text is markup: `&`, `<` and `>` are written as character references
    (which also keeps a spoken "-->" from reading as a timing line)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


Cue = tuple[tuple[str, str], tuple[str, str], str]  # start, end (see _stamp), text


def _cues(segments: Sequence[Segment]) -> list[Cue]:
    """The cue of each spoken segment, its stamps worked out once for both formats (an
    apply writes both for every item)."""
    return [
        (_stamp(s.start), _stamp(s.end), text) for s in segments if (text := _cue_text(s.content))
    ]


def to_vtt(segments: Sequence[Segment]) -> str:
    """A WebVTT document, one cue per segment."""
    return _vtt(_cues(segments))


def to_srt(segments: Sequence[Segment]) -> str:
    """An SRT document, cues numbered from 1.

    The text goes verbatim: SubRip has no escape syntax, and the players that read it
    (ffmpeg, mpv, VLC) show `&amp;` as those five characters, so escaping would print
    entities where the narration said `&`."""
    return _srt(_cues(segments))


def _vtt(cues: list[Cue]) -> str:
    return "WEBVTT\n\n" + "\n".join(
        f"{a}.{am} --> {b}.{bm}\n{_vtt_escape(text)}\n" for (a, am), (b, bm), text in cues
    )


def _srt(cues: list[Cue]) -> str:
    return "\n".join(
        f"{n}\n{a},{am} --> {b},{bm}\n{text}\n"
        for n, ((a, am), (b, bm), text) in enumerate(cues, start=1)
    )


def check_subtitles(root: Path, base: str) -> None:
    """What `write_subtitles(root, base, ...)` would refuse, raised (ItemError) before a job
    is paid for: a place outside the project, a symlink or a file where a folder must be, a
    symlink, read-only or special file in a subtitle file's place."""
    directory, name = _place(root, base)
    with _failing_the_item(base, FORMATS):
        check_writable_files(directory, [f"{name}.{ext}" for ext in FORMATS], root=root)


def write_subtitles(
    root: Path, base: str, segments: Sequence[Segment]
) -> tuple[dict[str, str], dict[str, FileDigest]]:
    """Write `<base>.vtt` and `<base>.srt` inside the project; return their relative paths
    by format, and their digests by path.

    A place outside the project, or a symlink on the way (as a folder or in place of a
    file), fails the item (ItemError), never the run, and nothing is written through it; so
    does a write the system refuses (a full disk: ItemError naming the file)."""
    directory, name = _place(root, base)
    cues = _cues(segments)
    files = {
        f"{name}.{ext}": render(cues).encode("utf-8")
        for ext, render in zip(FORMATS, (_vtt, _srt), strict=True)
    }
    stats: dict[str, os.stat_result] = {}
    with _failing_the_item(base, FORMATS):
        # Not fsync'd: derived from the job's timings, and at thousands of items the
        # syncs would cost more than the rest of apply's client work together. Both files
        # in one pass over the folders (each is reached without following a link).
        write_atomic_files(directory, files, durable=False, root=root, stats=stats)
    written = {ext: f"{base}.{ext}" for ext in FORMATS}
    digests = {}
    for ext in FORMATS:
        file = f"{name}.{ext}"
        digests[written[ext]] = found = digest_of(files[file])
        remember_written(root, written[ext], stats[file], found)  # for the stat cache
    return written, digests


def store_subtitles(root: Path, base: str, result: JobResult) -> JobResult:
    """A finished `result` with its subtitle files written and recorded. When they cannot be
    written, the result as failed with UNSTORED, keeping its job, media and URL: the audio
    was made and paid for, so the next apply reads the job again rather than buying it
    twice."""
    try:
        subtitles, digests = write_subtitles(root, base, result.segments)
    except ItemError as exc:
        return replace(
            result,
            state="failed",
            error_code=UNSTORED,
            error_message="the job finished, but its subtitles could not be written: "
            + str(exc).removeprefix("subtitles: "),
        )
    return replace(result, subtitles=subtitles, outputs={**(result.outputs or {}), **digests})


@contextlib.contextmanager
def _failing_the_item(base: str, formats: Sequence[str]) -> Iterator[None]:
    """A refusal (a symlink, a file where a folder must be) or an OS error (ENOSPC, EFBIG,
    EIO) on a subtitle file (of `formats`), as the ItemError that fails its item."""
    try:
        yield
    except UnsafeFileError as exc:
        raise ItemError(f"subtitles: {exc}", code="InvalidOutput") from exc
    except OSError as exc:
        failed = str(exc.filename or "")
        ext = next((e for e in formats if failed.endswith(f".{e}")), formats[0])
        message = f"subtitles: {base}.{ext}: {exc.strerror or exc}"
        raise ItemError(message, code="WriteFailed") from exc


def _place(root: Path, base: str) -> tuple[Path, str]:
    """The folder of `<base>.*` below `root` (not resolved), and the files' name stem."""
    folder, _, name = base.rpartition("/")
    try:
        return (_below(root, folder) if folder else root), name
    except PathEscapeError as exc:
        raise ItemError(f"subtitles {exc}", code="InvalidOutput") from exc


# An apply places two files per item, each twice (checked, then written), in a few folders.
_below = functools.lru_cache(maxsize=1024)(below)
