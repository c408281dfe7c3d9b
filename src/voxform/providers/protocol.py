"""The seam between the apply pipeline and the text-to-speech backends.

Adding a backend is adding a module with a class that meets `Provider` and naming it in
`registry.py`; nothing outside `providers/` asks which kind a target is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, TypeVar

from voxform.ice.wire import AudioRequest, Segment
from voxform.state.outputs import Output

if TYPE_CHECKING:
    from voxform.manifest.model import Target

JobState = Literal["finished", "failed"]
T = TypeVar("T")


@dataclass(frozen=True)
class JobResult:
    """What a finished or failed job left behind."""

    state: JobState
    job_id: str | None = None
    media_id: str | None = None
    url: str | None = None
    duration: float | None = None
    segments: tuple[Segment, ...] = field(default_factory=tuple)
    error_code: str | None = None
    error_message: str | None = None
    subtitles: dict[str, str] | None = None
    outputs: dict[str, Output] | None = None  # files written into the project


@dataclass(frozen=True)
class ListedJob:
    """A job as a listing shows it: enough to find a submission whose answer was lost."""

    job_id: str
    token: str | None
    created: float | None  # seconds since the epoch, as the service stamped it


@dataclass(frozen=True)
class JobPage:
    """One page of the service's jobs, newest first; `next_page` None on the last."""

    jobs: tuple[ListedJob, ...]
    next_page: str | None


# The operations a provider calls, by role; the values are what rate limits are keyed by.
Operation = Literal["submit", "check", "list"]


class Resources(Protocol):
    """What the providers of one run share: the project, options, long-lived helpers."""

    root: Path
    profile: str | None

    def shared(self, key: str, factory: Callable[[], T]) -> T:
        """One resource per `key` for the whole run (made by `factory` on first use); a
        context manager is exited when the run ends."""
        ...


class Provider(Protocol):
    """A text-to-speech backend. Errors raised are voxform.errors.ProviderError subclasses."""

    kind: ClassVar[str]
    durable_jobs: ClassVar[bool]  # jobs outlive this process: record intents and job ids
    files_in_project: ClassVar[bool]  # a finished job's url is a file under the project root
    billed: ClassVar[bool]  # its synthesis is paid for, by the character
    operations: ClassVar[Mapping[Operation, str]]  # rate-limited operations by role

    @classmethod
    def for_target(cls, target: Target, resources: Resources) -> Provider:
        """The provider of one target, opened with the run's shared resources."""
        ...

    @classmethod
    def engine_version(cls) -> str | None:
        """A version string that changes whenever the same request would give other audio."""
        ...

    @classmethod
    def subtitle_dir(cls, target: Target) -> str:
        """Project-relative directory for the subtitle files of `target`'s items."""
        ...

    @classmethod
    def output_files(cls, target: Target, request: AudioRequest) -> tuple[str, ...]:
        """The project files a finished job of `request` writes (its audio when that lives
        in the project, and its subtitles), as the lockfile names them."""
        ...

    @classmethod
    def describe(cls, target: Target, request: AudioRequest) -> dict[str, object]:
        """What `request` is for this backend, as `voxform render` shows it."""
        ...

    def submit(self, request: AudioRequest, token: str) -> str:
        """Start producing one audio object, tagged with `token`; return the job id."""
        ...

    def check(self, job_id: str, request: AudioRequest) -> JobResult | None:
        """The job's result if it has finished or failed, else None (one read call)."""
        ...

    def list_jobs(self, page: str | None) -> JobPage:
        """One page of the jobs at the service, newest first (empty where jobs are not
        durable): how a submission whose answer was lost is found by its token."""
        ...

    def close(self) -> None:
        """Release processes, connections and files."""
        ...


# The calls a storage makes, by role; the values are what rate limits are keyed by.
StorageOperation = Literal["head", "list", "copy", "delete", "get"]


@dataclass(frozen=True)
class StoredPage:
    """One page of what a storage holds under a prefix, by the lockfile's names;
    `next_page` None on the last."""

    outputs: tuple[tuple[str, Output], ...]
    next_page: str | None


@dataclass(frozen=True)
class Deleted:
    """What a conditional deletion did: the names deleted, and those left with why."""

    deleted: tuple[str, ...] = ()
    kept: tuple[tuple[str, str], ...] = ()


class Storage(Protocol):
    """Where a target's audio is kept: project files (local) or a bucket's objects (ICE).
    Names are the lockfile's: a project path, or `oss://BUCKET/KEY`. Nothing is changed
    that is not still what was recorded. Errors are voxform.errors.ProviderError
    subclasses, as a Provider's are."""

    operations: Mapping[StorageOperation, str]  # rate-limited calls by role

    def audio_name(self, request: AudioRequest) -> str:
        """The name of the audio a finished job of `request` leaves in this storage."""
        ...

    def head(self, name: str) -> Output | None:
        """What is at `name` now (None when nothing is), with its CRC-64 for an object."""
        ...

    def list(self, prefix: str, page: str | None = None, *, after: str | None = None) -> StoredPage:
        """One page of the names that start with `prefix`, and what each holds (a
        listing carries no CRC-64): the page `page` names, else the first of those that
        sort after `after` (in OSS's order: UTF-8 bytes, which is Python's for strings)."""
        ...

    def copy_if_match(self, source: str, expected: Output, destination: str) -> Output:
        """Copy `source` to `destination` while `source` is still `expected`; what was
        written. ItemError subclasses when it is gone (ObjectMissing) or changed
        (ObjectConflict)."""
        ...

    def delete_many_if_match(self, recorded: Mapping[str, Output]) -> Deleted:
        """Delete each name of `recorded` that still holds what is recorded for it."""
        ...

    def get(self, name: str, expected: Output | None, destination: Path) -> Output:
        """Download `name` into the project file `destination`, verified (a CRC-64 and
        size, or a sha256) before it replaces anything; what was read."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
