"""Collecting a review: the changed items of a plan, with their text before and after, the
audio recorded now and a preview of the audio after the change. Nothing is submitted: a
review bills nothing.

The change set is the plan of the working tree against the lockfile (or, with a base REF,
against the lockfile at REF). The text before a change comes from the project rendered at
that REF (without one: at HEAD, when the project is in git), trusted for an item only when
that render is what the lockfile records for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from voxform.apply.held import Telling, held_objects
from voxform.errors import ItemError, VoxformError
from voxform.plan.fingerprint import audio_digest, fingerprint
from voxform.plan.plan import SYNTHESIZING, Change, TargetFacts
from voxform.project import LoadedProject
from voxform.render.model import RenderedItem
from voxform.render.ssml import spoken_text
from voxform.review.base import Base, BaseError, base_project, repository
from voxform.review.folder import PageFiles
from voxform.review.model import Review, ReviewItem, Take
from voxform.review.previews import PREVIEWS, Preview, Previewer, Speech, vtt
from voxform.review.recorded import LEVELS, LevelsCache, Missing, Objects, local_take
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import files_of, objects_of

if TYPE_CHECKING:
    from voxform.engine.client import EspeakEngine

PREVIEW_LABEL = "preview of the recorded text (local engine)"


@dataclass(frozen=True)
class Options:
    """What `voxform review` was asked for."""

    base: str | None = None  # a git REF to compare against; None: the lockfile
    select: tuple[str, ...] = ()
    expires: int = 3600  # seconds a presigned URL works
    refresh: bool = True  # read the buckets before planning
    profile: str | None = None
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)


@dataclass
class Collected:
    """A review and what making it cost."""

    review: Review
    synthesized: int = 0  # previews the engine made in this run
    cached: int = 0  # previews read from .voxform/previews/
    fetched: int = 0  # objects read from a bucket for their levels


@dataclass
class _Before:
    """What is known of the items before the change."""

    lock: LockState
    label: str
    rendered: dict[str, RenderedItem]
    facts: Mapping[str, TargetFacts]


def collect(
    loaded: LoadedProject,
    options: Options,
    files: PageFiles,
    told: Telling,
    engine: Callable[[], EspeakEngine] | None = None,
) -> Collected:
    """The review of `loaded`'s changes, its audio written through `files`."""
    loaded.require_valid()
    root = loaded.project.root
    with contextlib.ExitStack() as stack:
        state = loaded.journal_path.parent
        previewer = Previewer(
            state / PREVIEWS, root, engine or _engine(options.workers), _version(), options.workers
        )
        stack.callback(previewer.close)
        previewer.warm()  # the engine starts up while the change is planned
        before = _before(loaded, options, stack)
        working = loaded if options.base is None else dataclasses.replace(loaded, lock=before.lock)
        try:
            held = held_objects(
                working,
                told,
                refresh=options.refresh,
                select=options.select,
                profile=options.profile,
            )
        except VoxformError as exc:
            told.warning(f"{exc}; the review plans from the lockfile alone")
            held = None
        plan = working.plan(select=options.select, held=held, refresh=options.refresh)
        changes = [c for c in plan.changes if c.action != "unchanged"]
        cache = LevelsCache(state / LEVELS, root)
        stack.callback(cache.flush)
        objects = stack.enter_context(
            Objects(
                loaded.project.targets,
                cache,
                expires=options.expires,
                profile=options.profile,
            )
        )
        olds = {c.id: _trusted(before, c.id) for c in changes}
        entries = {c.id: before.lock.items.get(c.id) for c in changes}

        # the previews after the change are made by the engine (and their files put beside
        # the page as they come) while this process reads the recorded takes: both cores
        # busy from the start
        def place(made: Preview) -> None:
            _preview_files(made, files)

        previewer.start((_speech(c.rendered) for c in changes if c.rendered is not None), place)
        nows = _recorded(changes, entries, root, objects, files, cache, options.workers)
        previewer.start(  # the recorded text's, where its audio cannot be had
            (
                _speech(old)
                for change in changes
                if isinstance(nows[change.id], Missing) and (old := olds[change.id]) is not None
            ),
            place,
        )
        previews = previewer.results()
        items = tuple(
            _item(change, entries[change.id], olds[change.id], nows[change.id], previews, files)
            for change in changes
        )
        unheard = [
            f"{change.id}: {now.note}, and the text it was made from is not known"
            for change in changes
            if isinstance(now := nows[change.id], Missing) and olds[change.id] is None
        ]
        unheard += [
            f"{change.id}: no preview: {made}"
            for change in changes
            if change.rendered is not None
            and isinstance(made := previews[_speech(change.rendered)], ItemError)
        ]
        review = Review(
            loaded.project.name or root.name,
            before.label,
            items,
            audio_origins=tuple(sorted(objects.origins)),
            notes=(
                "Previews are spoken by the local engine (espeak-ng), not by the service.",
                *unheard,
            ),
        )
        return Collected(review, previewer.synthesized, previewer.cached, objects.fetched)


def _before(loaded: LoadedProject, options: Options, stack: contextlib.ExitStack) -> _Before:
    """The lockfile the plan is made against and the render of the text recorded in it."""
    root = loaded.project.root
    lock_path = loaded.lock_path
    if options.base is not None:
        base = stack.enter_context(base_project(root, options.base, lock_path))
        return _of(base, base.loaded.lock, base.label)
    label = lock_path.name
    base_at_head: Base | None = None
    if repository(root) is not None:
        # a repository without a commit yet, or no valid project at HEAD: no text before
        with contextlib.suppress(BaseError):
            base_at_head = stack.enter_context(base_project(root, "HEAD", lock_path))
    if base_at_head is None:
        return _Before(loaded.lock, label, {}, {})
    return _of(base_at_head, loaded.lock, label)


def _of(base: Base, lock: LockState, label: str) -> _Before:
    rendered = {r.id: r for r in base.loaded.rendered}
    return _Before(lock, label, rendered, base.loaded.targets())


def _trusted(before: _Before, item_id: str) -> RenderedItem | None:
    """The item as rendered before the change, when that is what the lockfile records."""
    old = before.rendered.get(item_id)
    entry = before.lock.items.get(item_id)
    if old is None or entry is None:
        return None
    facts = before.facts.get(old.item.settings.target)
    if facts is None:
        return None
    if fingerprint(old, facts.kind, facts.engine) == entry.fingerprint:
        return old
    if entry.audio_digest and audio_digest(old, facts.kind, facts.engine) == entry.audio_digest:
        return old
    return None


def _recorded(
    changes: list[Change],
    entries: Mapping[str, LockEntry | None],
    root: Path,
    objects: Objects,
    files: PageFiles,
    cache: LevelsCache,
    workers: int,
) -> dict[str, Take | Missing | None]:
    """Each change's recorded take (None: nothing is recorded, as for a new item), made
    in parallel: files read and decoded, objects signed (and read once for their levels)."""

    def take(entry: LockEntry | None) -> Take | Missing | None:
        if entry is None or entry.state != "finished":
            return None
        if objects_of(entry.outputs):
            return objects.take(entry)
        if files_of(entry.outputs):
            return local_take(root, entry, files, cache)
        return Missing("the lockfile records no audio for it")

    with ThreadPoolExecutor(max(1, workers) * 2, thread_name_prefix="recorded") as pool:
        takes = pool.map(take, [entries[c.id] for c in changes])
        return {c.id: found for c, found in zip(changes, takes, strict=True)}


def _item(
    change: Change,
    entry: LockEntry | None,
    old: RenderedItem | None,
    now: Take | Missing | None,
    previews: Mapping[Speech, Preview | ItemError],
    files: PageFiles,
) -> ReviewItem:
    new = change.rendered
    shown = new or old
    source = None
    if shown is not None:
        source = shown.item.source_file or shown.item.location.file
    if isinstance(now, Missing):
        now = None if old is None else _preview_take(previews[_speech(old)], files, now.note)
    after = None if new is None else _preview_take(previews[_speech(new)], files, None)
    characters = change.characters or (entry.characters if entry is not None else 0)
    return ReviewItem(
        id=change.id,
        action=change.action,
        reasons=change.reasons,
        source=source,
        characters=characters,
        billed=change.billed and change.action in SYNTHESIZING,
        copied_from=change.source,
        old_text=None if old is None else _spoken(old),
        new_text=None if new is None else _spoken(new),
        old_ssml=None if old is None else old.request.input,
        new_ssml=None if new is None else new.request.input,
        now=now,
        after=after,
    )


def _preview_take(made: Preview | ItemError, files: PageFiles, note: str | None) -> Take | None:
    """A preview as a take; `note`: it stands in for recorded audio that cannot be had."""
    if isinstance(made, ItemError):
        return None
    src, subtitles = _preview_files(made, files)
    shown = None if note is None else f"{note}: {PREVIEW_LABEL}"
    levels = made.levels
    return Take("preview", src, "audio/mpeg", levels.duration, levels.peaks, subtitles, note=shown)


def _preview_files(made: Preview, files: PageFiles) -> tuple[str, str | None]:
    """A preview's audio and subtitles beside the page (each written once): their paths."""
    src = files.put(made.audio, "mp3", source=made.path, sha256=made.sha256)
    subtitles = files.put(vtt(made.segments).encode(), "vtt") if made.segments else None
    return src, subtitles


def _speech(item: RenderedItem) -> Speech:
    request = item.request
    return Speech(request.input, request.editing)


def _spoken(item: RenderedItem) -> str:
    """What a listener hears: the SSML without tags, entities decoded, spaces collapsed."""
    return " ".join(spoken_text(item.request.input).split())


def _engine(workers: int) -> Callable[[], EspeakEngine]:
    def open_engine() -> EspeakEngine:
        from voxform.engine.client import EspeakEngine

        return EspeakEngine(workers, backlog=workers)  # see Previewer.threads

    return open_engine


def _version() -> str:
    from voxform.providers.local import LocalProvider

    return LocalProvider.engine_version() or "unknown"
