"""What the objects the lockfile names hold now, read from their buckets before a plan.

`plan`, `apply` and `refresh` read them (unless --no-refresh) so that an object deleted or
replaced in its bucket plans as drift. Kept apart from the executor and the clients: a
lockfile that names no object reads nothing and imports no HTTP client.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from voxform.manifest.model import Project
    from voxform.project import LoadedProject
    from voxform.state.lockfile import LockState
    from voxform.state.outputs import Output


class Telling(Protocol):
    """What planning tells as it goes (the reporter, as far as it is used here)."""

    def warning(self, message: str) -> None:
        """Something the user likely did not mean; the command goes on."""
        ...


FILES_NOT_READ = (
    "the output files were not checked (--no-refresh): a file deleted or changed since apply"
    " recorded it is not shown"
)


def held_objects(
    loaded: LoadedProject,
    told: Telling,
    *,
    refresh: bool,
    select: tuple[str, ...] = (),
    profile: str | None = None,
) -> Mapping[str, Output | None] | None:
    """What the objects the lockfile names hold now, read from their buckets (nothing is
    read, or imported, when it names none); None, and a warning that says so, when
    `refresh` is off."""
    entries = loaded.lock.items.values()
    if not _names_objects(loaded.lock):
        if refresh or not any(entry.outputs for entry in entries):
            return {}
        told.warning(FILES_NOT_READ)
        return None
    from voxform.apply.buckets import NOT_READ, read_held

    if not refresh:
        told.warning(NOT_READ)
        return None
    return read_held(loaded.project, loaded.lock, select=select, profile=profile)


def _names_objects(lock: LockState) -> bool:
    from voxform.state.outputs import objects_of

    return any(entry.outputs and objects_of(entry.outputs) for entry in lock.items.values())


class ReadAhead:
    """`held_objects`, its buckets read on a thread of their own (`start`), so that the
    service answers while the plan checks the project's output files, and `result` is
    held_objects' answer, a bucket that cannot be read raising the same error. Nothing is
    read ahead when --no-refresh is given (held_objects warns, in order) or the lockfile
    names no object. Started once the project is loaded and found valid: no worker is
    forked while the thread runs (a fork would find its locks as they happened to be), and
    an invalid project's error is still told before any bucket is read."""

    def __init__(
        self, told: Telling, *, refresh: bool, select: tuple[str, ...], profile: str | None
    ) -> None:
        self.told = told
        self.refresh = refresh
        self.select = select
        self.profile = profile
        self._thread: threading.Thread | None = None
        self._held: dict[str, Output | None] = {}
        self._error: BaseException | None = None

    def start(self, project: Project, lock: LockState) -> None:
        """Begin reading what the objects `lock` names hold (if there is any to read)."""
        if not self.refresh or self._thread is not None or not _names_objects(lock):
            return
        from voxform.apply.buckets import read_held
        from voxform.providers.registry import provider_for

        for target in project.targets.values():
            provider_for(target)  # each target's provider module, imported here

        def run() -> None:
            try:
                self._held = read_held(project, lock, select=self.select, profile=self.profile)
            except BaseException as error:  # told by `result`, in the command's thread
                self._error = error

        self._thread = threading.Thread(target=run, name="voxform-read-ahead", daemon=True)
        self._thread.start()

    def result(self, loaded: LoadedProject) -> Mapping[str, Output | None] | None:
        """What `held_objects(loaded, ...)` answers: read ahead if it was started (for
        `loaded`'s own lockfile state), else now."""
        if self._thread is None:
            return held_objects(
                loaded, self.told, refresh=self.refresh, select=self.select, profile=self.profile
            )
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._held
