"""What a review page shows: the changed items of a plan, each with its two takes.

The seam between collecting a review (plan, base render, recorded audio, previews) and
writing its page. Everything here is plain data, already computed: the page escapes every
string it is given, since every string comes from manifests, texts, templates or lockfiles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

TakeKind = Literal["recorded", "preview"]


@dataclass(frozen=True, slots=True)
class Take:
    """One player on the page: recorded audio (now) or a local-engine preview (after)."""

    kind: TakeKind
    # A path relative to the page's folder ("audio/3f9c….mp3"), or an absolute https/http URL
    # (a presigned OSS GET URL) for recorded audio that stays in the bucket.
    src: str
    mime: str  # "audio/mpeg", "audio/wav"
    duration: float  # seconds, from the decoded audio, when the page was written
    # A level strip: peak levels 0..1 over equal slices of the take (about 64 values).
    peaks: tuple[float, ...]
    subtitles: str | None = None  # a WebVTT file relative to the page's folder
    expires: str | None = None  # ISO 8601 UTC expiry of a presigned URL
    note: str | None = None  # why a take is not what one expects ("recorded file missing: …")


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: str
    action: str  # create, update, copy, retry, resume, delete
    reasons: tuple[str, ...]
    source: str | None  # project-relative source file of the item's text; None if unknown
    characters: int
    billed: bool
    copied_from: str | None  # for a copy: the item whose audio it takes
    old_text: str | None  # spoken text (SSML without tags) as recorded; None if unknown/new
    new_text: str | None  # spoken text after the change; None for a delete
    old_ssml: str | None
    new_ssml: str | None
    now: Take | None  # the recorded audio; None for a create
    after: Take | None  # the preview; None for a delete


@dataclass(frozen=True, slots=True)
class Review:
    project: str  # the project's name or folder name
    base: str  # what the change is compared with: "voxform.lock" or "REF (abc1234)"
    items: tuple[ReviewItem, ...]
    # Origins ("https://bucket.oss-cn-shanghai.aliyuncs.com", "http://127.0.0.1:8123") that
    # the page may load audio from besides its own folder: the CSP's media-src.
    audio_origins: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # page-wide notes (e.g. "previews by espeak-ng")

    def summary(self) -> Mapping[str, int | float]:
        """Items, billed characters, minutes of audio after the change, counts per action."""
        counts: dict[str, int | float] = {"items": len(self.items)}
        for item in self.items:
            counts[item.action] = int(counts.get(item.action, 0)) + 1
        counts["billed_characters"] = sum(i.characters for i in self.items if i.billed)
        counts["minutes"] = round(
            sum(i.after.duration for i in self.items if i.after is not None) / 60, 2
        )
        return counts
