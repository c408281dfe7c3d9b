"""Output formats behind one interface: every command gets every format."""

from __future__ import annotations

import os

from voxform.report.base import Reporter
from voxform.report.github import GithubReporter
from voxform.report.json import JsonReporter
from voxform.report.markdown import MarkdownReporter
from voxform.report.text import TextReporter

FORMATS = ("text", "json", "github", "markdown")


def make_reporter(fmt: str | None) -> Reporter:
    """The reporter for `--format`; GitHub annotations by default inside GitHub Actions."""
    if fmt is None:
        fmt = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    if fmt == "json":
        return JsonReporter()
    if fmt == "github":
        return GithubReporter()
    if fmt == "markdown":
        return MarkdownReporter()
    return TextReporter()


__all__ = ["FORMATS", "Reporter", "make_reporter"]
