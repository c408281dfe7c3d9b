"""What the objects the lockfile names hold now, read from their buckets before a plan.

`plan`, `apply` and `refresh` read them (unless --no-refresh) so that an object deleted or
replaced in its bucket plans as drift. Kept apart from the executor and the clients: a
lockfile that names no object reads nothing and imports no HTTP client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from voxform.project import LoadedProject
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
    from voxform.state.outputs import objects_of

    entries = loaded.lock.items.values()
    if not any(entry.outputs and objects_of(entry.outputs) for entry in entries):
        if refresh or not any(entry.outputs for entry in entries):
            return {}
        told.warning(FILES_NOT_READ)
        return None
    from voxform.apply.buckets import NOT_READ, read_held

    if not refresh:
        told.warning(NOT_READ)
        return None
    return read_held(loaded.project, loaded.lock, select=select, profile=profile)
