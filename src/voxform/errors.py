"""One error tree for voxform; only the CLI turns these into messages and exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


class VoxformError(Exception):
    """Root of every error voxform raises on purpose."""


@dataclass(frozen=True)
class Location:
    """A place in a manifest or template file (1-based line and column)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One validation finding, reported with every other one at once."""

    location: Location
    message: str
    rule: str
    item: str | None = None  # the item it was found in, when one cause can touch many
    severity: Literal["error", "warning"] = "error"


def one_per_cause(problems: Iterable[Problem]) -> list[Problem]:
    """Each cause once: problems at the same place with the same message (a typo in
    `defaults`, a bad tag in a template used by 300 items) become one, saying how many items
    it touches and naming the first."""
    grouped: dict[tuple[Location, str, str, str], list[Problem]] = {}
    for problem in problems:
        key = (problem.location, problem.message, problem.rule, problem.severity)
        grouped.setdefault(key, []).append(problem)
    result = []
    for group in grouped.values():
        first = group[0]
        items = list(dict.fromkeys(p.item for p in group if p.item is not None))
        if len(items) > 1:
            more = len(items) - 1
            message = f"{first.message} (item {items[0]!r} and {more} more)"
        elif items:
            message = f"{first.message} (item {items[0]!r})"
        else:
            message = first.message
        result.append(Problem(first.location, message, first.rule, None, first.severity))
    return result


class ManifestError(VoxformError):
    """The manifests are invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0] if problems else None
        super().__init__(f"{first.location}: {first.message}" if first else "invalid manifest")


class PathEscapeError(VoxformError):
    """A path leaves the project root, directly or through a symlink."""


class ProviderError(VoxformError):
    """A provider could not do what was asked."""

    def __init__(self, message: str, *, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


class RetryableError(ProviderError):
    """Throttling, 5xx or a transport failure: the same request may succeed later."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        request_id: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, request_id=request_id)
        self.retry_after = retry_after


class ThrottledError(RetryableError):
    """The service refused the call for its rate (ICE's Throttling.*, OSS's SlowDown): the
    caller slows that operation down, and the call itself is retried like any transient one."""


class UnknownOutcome(RetryableError):
    """The request was sent but its answer was lost: the service may have carried it out."""


class ItemError(ProviderError):
    """This item cannot be produced (bad parameter, failed job); other items go on."""


class FatalError(ProviderError):
    """Nothing will work in this run (credentials, signature, clock): stop at once."""


def did_you_mean(word: str, candidates: Iterable[object]) -> str:
    """' (did you mean 'x'?)' when a candidate is close to `word`, else ''."""
    close = difflib.get_close_matches(word, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
