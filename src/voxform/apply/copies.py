"""The plan's copies, carried out before anything is synthesized.

A `copy` makes an item's audio from another item's recorded audio (plan/reuse.py): a
CopyObject on condition that the source's ETag is still the one recorded (ICE), or a file
copy of bytes checked against the recorded sha256 (local), through the target's Storage,
paced and retried like apply's other calls. The source's subtitle files, the same audio's
timings, are copied beside the new item's too, checked the same way.

Each copied item's entry is journaled as it lands, so a kill -9 loses at most copies that
the next apply makes again, for nothing. A copy that cannot be made (the source changed or
is gone, any error of the item) falls back to synthesis: its change goes to the pipeline as
the create or update it was, and the outcome says so. Copies run before the pipeline and
before prune, so a rename's old item is still there to be copied from.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from voxform.apply.outcome import Outcome, Progress
from voxform.errors import FatalError, ProviderError, VoxformError
from voxform.plan.plan import Action, Change
from voxform.plan.reuse import audio_output
from voxform.providers.local_storage import LocalStorage
from voxform.providers.protocol import Storage
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import Output, files_of

WORKERS = 16  # copies in flight: each is one short call (or a file copy)
COPY_OPERATION, COPY_RATE = "CopyObject", 1000.0  # calls per second unless a target says
FLUSH_EVERY = 0.1  # seconds between journal syncs while copies land


@dataclass(frozen=True)
class Copied:
    """One copy's end: the new entry, or why it fell back to synthesis."""

    change: Change
    entry: LockEntry | None = None
    failure: str | None = None


class Copier:
    """Carries out copies; `stop()` may be called from any thread (a signal)."""

    def __init__(
        self,
        lock: LockState,
        storages: Mapping[str, Storage],
        root: Path,
        subtitle_dirs: Mapping[str, str],
        record: Callable[[str, LockEntry | None], None],
        flush: Callable[[], None],
        progress: Progress,
        outcome: Outcome,
    ) -> None:
        self.lock = lock
        self.storages = dict(storages)
        self.files = LocalStorage(root, ".")  # subtitle files, wherever the target keeps them
        self.subtitle_dirs = subtitle_dirs
        self.record = record
        self.flush = flush
        self.progress = progress
        self.outcome = outcome
        self._stop = threading.Event()
        self._fatal: str | None = None

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run(self, copies: Sequence[Change]) -> list[Change]:
        """Make each copy; the changes that fall back to synthesis, as create or update."""
        fallbacks: list[Change] = []
        flushed = time.monotonic()
        told = len(self.outcome.copied), len(self.outcome.copy_fallbacks)
        with ThreadPoolExecutor(WORKERS, thread_name_prefix="voxform-copy") as pool:
            queued = iter(copies)
            running: set[Future[Copied]] = set()
            while True:
                while not self._stop.is_set() and len(running) < WORKERS * 2:
                    change = next(queued, None)
                    if change is None:
                        break
                    running.add(pool.submit(self._copy, change))
                if not running:
                    break
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    fallback = self._land(future.result())
                    if fallback is not None:
                        fallbacks.append(fallback)
                if time.monotonic() - flushed >= FLUSH_EVERY:
                    self.flush()
                    flushed = time.monotonic()
                self.progress.running(len(running), self.outcome)
        self.flush()
        # Told in the plan's order, whichever landed first.
        order = {change.id: at for at, change in enumerate(copies)}
        copied, fell = self.outcome.copied, self.outcome.copy_fallbacks
        copied[told[0] :] = sorted(copied[told[0] :], key=lambda row: order[row[0]])
        fell[told[1] :] = sorted(fell[told[1] :], key=lambda row: order[row[0]])
        return sorted(fallbacks, key=lambda change: order[change.id])

    def _land(self, copied: Copied) -> Change | None:
        """Record one copy's end (on the thread that journals); its fallback, if any."""
        change, source = copied.change, copied.change.source or ""
        if copied.entry is not None:
            self.lock.items[change.id] = copied.entry
            self.record(change.id, copied.entry)
            self.outcome.finished.append(change.id)
            self.outcome.copied.append((change.id, source))
            self.progress.item_done(change, copied.entry)
            return None
        why = copied.failure or "not copied"
        self.outcome.copy_fallbacks.append((change.id, source, why))
        action: Action = "create" if self.lock.items.get(change.id) is None else "update"
        return replace(
            change,
            action=action,
            source=None,
            reasons=(*change.reasons, f"copy from {source} failed ({why}); synthesized instead"),
        )

    def _copy(self, change: Change) -> Copied:
        """One copy, on a worker thread: every error is this item's fallback."""
        if self._fatal is not None:
            return Copied(change, failure=self._fatal)
        try:
            return Copied(change, entry=self._make(change))
        except FatalError as error:
            self._fatal = self._fatal or f"copies stopped: {error}"
            return Copied(change, failure=str(error))
        except (ProviderError, VoxformError, OSError) as error:
            return Copied(change, failure=_said(error))

    def _make(self, change: Change) -> LockEntry:
        source_id = change.source or ""
        source = self.lock.items.get(source_id)
        rendered = change.rendered
        name = audio_output(source) if source is not None else None
        if (
            source is None
            or name is None
            or rendered is None
            or change.target is None
            or source.state != "finished"
            or source.audio_digest != change.audio_digest
        ):
            raise VoxformError(f"the audio of {source_id} is no longer recorded")
        storage = self.storages[change.target]
        destination = storage.audio_name(rendered.request)
        recorded = (source.outputs or {})[name]
        written: Output = recorded
        if destination != name:
            written = storage.copy_if_match(name, recorded, destination)
        outputs: dict[str, Output] = {destination: written}
        subtitles: dict[str, str] = {}
        base = self.subtitle_dirs.get(change.target)
        for ext, file in sorted((source.subtitles or {}).items()):
            expected = files_of(source.outputs).get(file)
            if base is None or expected is None:
                raise VoxformError(f"the subtitles of {source_id} are not recorded")
            place = f"{base.rstrip('/')}/{rendered.request.object_key}.{ext}"
            outputs[place] = self.files.copy_if_match(file, expected, place)
            subtitles[ext] = place
        return LockEntry(
            state="finished",
            fingerprint=change.fingerprint or "",
            characters=change.characters,
            inputs=dict(change.inputs or {}),
            chunk=rendered.item.chunk,
            url=destination,
            duration=source.duration,
            subtitles=subtitles or None,
            outputs=outputs,
            audio_digest=change.audio_digest,
            copied_from=source_id,
        )


def _said(error: Exception) -> str:
    code = getattr(error, "code", None)
    text = str(error) or type(error).__name__
    return f"{code}: {text}" if code and not text.startswith(str(code)) else text
