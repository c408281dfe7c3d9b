"""Reviews with real audio in tmp_path, built without collecting one.

The audio is made with the project's own encoder (a tone, MP3 or WAV), each take with its
own WebVTT subtitles beside it; a take states the duration its frames hold (as a decoder
finds it), so the browser's duration can be held against it.
"""

from __future__ import annotations

import hashlib
import io
import wave
from pathlib import Path
from typing import Any

import numpy as np

from e2e.audio import mp3_duration
from voxform.engine.audio import encode
from voxform.review.model import Review, ReviewItem, Take

RATE = 24000


def make_take(
    folder: Path,
    kind: str,
    seconds: float,
    *,
    fmt: str = "mp3",
    pitch: float = 440.0,
    cues: tuple[str, ...] = ("First sentence.", "Second sentence."),
) -> Take:
    """A take of `seconds` of a tone, written to folder/audio/<digest>.<fmt>, with subtitles."""
    times = np.arange(round(seconds * RATE)) / RATE
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 0.7 * times)
    samples = (np.sin(2 * np.pi * pitch * times) * 9000 * envelope).astype(np.int16)
    data = encode(samples, RATE, fmt)  # type: ignore[arg-type]
    name = f"audio/{hashlib.sha256(data).hexdigest()[:16]}"
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.{fmt}").write_bytes(data)
    step = seconds / max(1, len(cues))
    blocks = [
        f"{_stamp(n * step)} --> {_stamp((n + 1) * step)}\n{cue}" for n, cue in enumerate(cues)
    ]
    (folder / f"{name}.vtt").write_text("WEBVTT\n\n" + "\n\n".join(blocks) + "\n", "utf-8")
    slices = np.array_split(np.abs(samples.astype(np.float64)) / 32768, 64)
    peaks = tuple(round(float(s.max()) if s.size else 0.0, 3) for s in slices)
    mime = "audio/mpeg" if fmt == "mp3" else "audio/wav"
    return Take(  # type: ignore[arg-type]
        kind=kind,
        src=f"{name}.{fmt}",
        mime=mime,
        duration=decoded_duration(data, fmt),
        peaks=peaks,
        subtitles=f"{name}.vtt",
    )


def decoded_duration(data: bytes, fmt: str) -> float:
    """The seconds a decoder finds in the file: an MP3's frames hold the encoder's delay and
    padding as well (tens of milliseconds), which a browser counts too."""
    if fmt == "mp3":
        return mp3_duration(data)[1]
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, minutes, rest = millis // 3_600_000, millis // 60_000 % 60, millis % 60_000
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def item(
    id: str,
    action: str,
    *,
    source: str | None = "docs/intro.md",
    old: str | None = None,
    new: str | None = None,
    now: Take | None = None,
    after: Take | None = None,
    characters: int = 0,
    **fields: Any,
) -> ReviewItem:
    """A ReviewItem with its SSML made from its text, unless given."""
    values: dict[str, Any] = {
        "id": id,
        "action": action,
        "reasons": (f"{action} reason",),
        "source": source,
        "characters": characters or len(new or old or ""),
        "billed": action in ("create", "update"),
        "copied_from": None,
        "old_text": old,
        "new_text": new,
        "old_ssml": None if old is None else f"<speak>{old}</speak>",
        "new_ssml": None if new is None else f"<speak>{new}</speak>",
        "now": now,
        "after": after,
    }
    values.update(fields)
    return ReviewItem(**values)


def quickstart_review(folder: Path) -> Review:
    """Three changes as the quickstart shows them: an edited text, a lexicon change, a
    deletion; and a new item in another file."""
    return Review(
        project="quickstart",
        base="voxform.lock",
        items=(
            item(
                "intro/1",
                "update",
                old="Welcome to the quick tour of the product.",
                new="Welcome to the short tour of the product.",
                now=make_take(folder, "recorded", 2.4),
                after=make_take(folder, "preview", 2.9, pitch=520),
            ),
            item(
                "intro/2",
                "update",
                old="It reads S Q L aloud.",
                new="It reads sequel aloud.",
                now=make_take(folder, "recorded", 1.6, fmt="wav"),
                after=make_take(folder, "preview", 1.3, pitch=600),
            ),
            item(
                "outro/1",
                "delete",
                source="docs/outro.md",
                old="Thanks for listening.",
                now=make_take(folder, "recorded", 1.1, pitch=330),
            ),
            item(
                "outro/2",
                "create",
                source="docs/outro.md",
                new="See you next time.",
                after=make_take(folder, "preview", 0.9, pitch=700),
            ),
        ),
        notes=("previews by the local engine",),
    )


# Every take played once (its <audio> is made on its first play): what its audio holds
# against what the page states.
LOAD_ALL = """async () => {
  const found = await Promise.all(Array.from(document.querySelectorAll(".take[data-src]"),
    (take) => new Promise((done) => {
      take.querySelector(".play").click();
      const audio = take.querySelector("audio");
      const stated = Number(take.dataset.duration);
      audio.addEventListener("loadedmetadata",
        () => done({stated, found: audio.duration, src: audio.currentSrc}), {once: true});
      audio.addEventListener("error",
        () => done({stated, found: null, src: audio.currentSrc}), {once: true});
    })));
  document.querySelectorAll("audio").forEach((audio) => audio.pause());
  return found;
}"""
CUES = """() => Array.from(document.querySelectorAll("track"),
  (track) => track.track.cues ? track.track.cues.length : -1)"""
