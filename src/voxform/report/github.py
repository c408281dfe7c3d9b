"""GitHub Actions: text output plus workflow commands that GitHub shows on the diff."""

from __future__ import annotations

import sys

from voxform.errors import Problem
from voxform.report.text import TextReporter


def escape_data(message: str) -> str:
    """A workflow command's message, with the characters GitHub reads specially escaped."""
    return message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


class GithubReporter(TextReporter):
    """Text output plus `::error` workflow commands."""

    def problems(self, problems: list[Problem]) -> None:
        super().problems(problems)
        for p in problems:
            sys.stdout.write(
                f"::error file={p.location.file},line={p.location.line},"
                f"col={p.location.column},title=voxform {p.rule}::{escape_data(p.message)}\n"
            )

    def error(self, message: str) -> None:
        super().error(message)
        sys.stdout.write(f"::error title=voxform::{escape_data(message)}\n")
