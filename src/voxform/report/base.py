"""The reporter seam: commands compute, reporters print (check-jsonschema's reporter.py)."""

from __future__ import annotations

import re
from typing import Protocol

from voxform.apply.outcome import Outcome, Progress
from voxform.errors import Problem
from voxform.plan.plan import Plan
from voxform.pull.outcome import PullOutcome, PullProgress
from voxform.state.summary import Summary


class Reporter(Progress, PullProgress, Protocol):
    """Everything a command shows, in one of the output formats."""

    def problems(self, problems: list[Problem]) -> None:
        """Validation findings (an empty list: the project is valid)."""
        ...

    def valid(self, items: int, files: int) -> None:
        """`validate` found nothing wrong in `items` items from `files` manifest files."""
        ...

    def plan(self, plan: Plan, *, show_unchanged: bool) -> None:
        """The result of `plan`."""
        ...

    def apply_plan(self, plan: Plan) -> None:
        """The plan `apply` is about to carry out."""
        ...

    def request(self, item_id: str, document: dict[str, object]) -> None:
        """The exact request one item would send (`render`), as its provider describes it."""
        ...

    def outcome(self, outcome: Outcome) -> None:
        """What `apply` did (an empty outcome when there was nothing to do)."""
        ...

    def status(self, summary: Summary, lockfile: str) -> None:
        """What the lockfile at `lockfile` records (`status`)."""
        ...

    def pulled(self, outcome: PullOutcome, folders: list[str]) -> None:
        """What `pull` did, into `folders` (project-relative)."""
        ...

    def link(self, item_id: str, url: str, expires: int) -> None:
        """A presigned URL of an item's object, valid for `expires` seconds (`url`)."""
        ...

    def info(self, message: str) -> None:
        """A line for people; machine formats leave it out."""
        ...

    def warning(self, message: str) -> None:
        """Something the user likely did not mean; the command goes on."""
        ...

    def error(self, message: str) -> None:
        """Why the command failed, in one sentence."""
        ...

    def finish(self) -> None:
        """The command is over: flush what is buffered."""
        ...


def plan_cost(summary: dict[str, int]) -> str:
    """What synthesizing the plan costs: billed characters kept apart from free local ones."""
    total, free = summary["characters"], summary["free_characters"]
    copied = summary.get("copied_characters", 0)
    line = f"{total} characters to synthesize"
    if free and free == total:
        line += ", free on the local engine"
    elif free:
        line += f": {summary['billed_characters']} billed, {free} free on the local engine"
    if copied:
        line += f"; {copied} characters copied from audio already made, none billed"
    return line


_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c != 0x09}
_ESCAPES.update({0x0A: "\\n", 0x0D: "\\r"})
# Line and paragraph separators, and the marks and overrides that reorder what a terminal
# or a web page shows (a "Trojan Source" id reads as another).
_ESCAPES.update(
    {c: f"\\u{c:04x}" for c in (0x061C, 0x200E, 0x200F, *range(0x2028, 0x202F), 0x2066)}
)
_ESCAPES.update({c: f"\\u{c:04x}" for c in range(0x2067, 0x206A)})

# What the GitHub Actions runner reads as a workflow command in a log line: `::name ...::`
# at its start (after blanks, which the runner trims) and the older `##[name]` anywhere.
_COMMAND = re.compile(r"^(\s*):(?=:)|##(?=\[)")


def _defuse(match: re.Match[str]) -> str:
    return f"{match[1]}\\x3a" if match[1] is not None else "#\\x23"


def printable(text: object) -> str:
    """`text` on one line, with control characters spelt out: a name or message from a
    manifest, a lockfile or the service can then neither start a line of its own nor send
    escape codes to a terminal; and a workflow command in it (`::add-mask::`, `##[error]`)
    is spelt out too, so that not even the start of a line can forge one in a CI log."""
    return _COMMAND.sub(_defuse, str(text).translate(_ESCAPES))


def inert_json(document: str) -> str:
    """A JSON text with `##[` written `##\\u005b`: the same value when read, and no old-style
    workflow command in a CI log (in JSON it can only be inside a string; no line of an
    indented document starts with `::`)."""
    return document.replace("##[", "##\\u005b")
