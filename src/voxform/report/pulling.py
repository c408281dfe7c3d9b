"""How `voxform pull` looks for people: a bar on a terminal, a line every few seconds
elsewhere, and one summary line at the end."""

from __future__ import annotations

import time

import click

from voxform.pull.outcome import PullOutcome
from voxform.report.progress import LINE_EVERY


class PullBar:
    """A rich progress bar: done / total, downloaded, unchanged, failed, elapsed."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]pull"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[got]} downloaded, {task.fields[same]} unchanged,"),
            TextColumn("{task.fields[failed]} failed,"),
            TimeElapsedColumn(),
            console=Console(stderr=False),
        )
        self._task = self._bar.add_task("pull", total=total, got=0, same=0, failed=0)
        self._bar.start()

    def update(self, outcome: PullOutcome) -> None:
        self._bar.update(
            self._task,
            completed=outcome.done,
            got=len(outcome.downloaded),
            same=len(outcome.unchanged),
            failed=len(outcome.failed),
        )

    def close(self) -> None:
        self._bar.stop()


class PullLines:
    """A plain progress line every few seconds, for CI logs and pipes."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self._next = self.started + LINE_EVERY

    def update(self, outcome: PullOutcome) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + LINE_EVERY
        click.echo(
            f"pull: {outcome.done}/{outcome.total} done ({len(outcome.downloaded)} downloaded,"
            f" {len(outcome.unchanged)} unchanged, {len(outcome.failed)} failed),"
            f" {now - self.started:.0f} s elapsed"
        )

    def close(self) -> None:
        pass


def pull_summary(outcome: PullOutcome, folders: list[str]) -> str:
    """The last line of a pull."""
    ended = "Pull failed" if outcome.failed else "Pull complete"
    where = ", ".join(f"{f}/" for f in folders) or "the project"
    megabytes = outcome.bytes / 1e6
    calls = ", ".join(f"{n} {op}" for op, n in sorted(outcome.calls.items())) or "none"
    line = (
        f"{ended}: {len(outcome.downloaded)} downloaded ({megabytes:.1f} MB),"
        f" {len(outcome.unchanged)} unchanged, {len(outcome.failed)} failed,"
        f" into {where} in {outcome.seconds:.1f} s; OSS calls: {calls}."
    )
    if outcome.refused:
        line += (
            f" {outcome.refused} download(s) were not the object's bytes (CRC-64 or size)"
            " and were refused, none kept."
        )
    return line
