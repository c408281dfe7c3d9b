"""GitHub Actions: text output plus workflow commands that GitHub shows on the diff."""

from __future__ import annotations

import sys

from voxform.errors import Problem
from voxform.report.text import TextReporter


def escape_data(message: str) -> str:
    """A workflow command's message, with the characters GitHub reads specially escaped."""
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value (file=, title=): `,` and `:` end it otherwise."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


ANNOTATIONS = 10  # GitHub shows at most 10 annotations of a kind per step; more are dropped


class GithubReporter(TextReporter):
    """Text output plus `::error` workflow commands: every problem in the log, the first
    ANNOTATIONS on the diff, and a notice saying how many more the log has."""

    def problems(self, problems: list[Problem]) -> None:
        super().problems(problems)
        for kind in ("error", "warning"):
            found = [p for p in problems if p.severity == kind]
            for p in found[:ANNOTATIONS]:
                sys.stdout.write(
                    f"::{kind} file={escape_property(p.location.file)},line={p.location.line},"
                    f"col={p.location.column},title={escape_property('voxform ' + p.rule)}::"
                    f"{escape_data(p.message)}\n"
                )
            if len(found) > ANNOTATIONS:
                rest = len(found) - ANNOTATIONS
                sys.stdout.write(
                    f"::notice title=voxform::{len(found)} {kind}s found; {rest} more than "
                    "GitHub annotates are listed in this step's log\n"
                )

    def warning(self, message: str) -> None:
        super().warning(message)
        sys.stdout.write(f"::warning title=voxform::{escape_data(message)}\n")

    def error(self, message: str) -> None:
        super().error(message)
        sys.stdout.write(f"::error title=voxform::{escape_data(message)}\n")
