"""How a running apply looks: a live bar on a terminal, a line every few seconds elsewhere.

Elapsed time and audio length are told apart: "12.0 s" of wall clock is not "12.0 s of
audio". rich draws the bar (and honours NO_COLOR); the plain lines suit CI logs.
"""

from __future__ import annotations

import time
from typing import Protocol

import click

from voxform.apply.outcome import Outcome

LINE_EVERY = 5.0  # seconds between plain progress lines


class Display(Protocol):
    def update(self, in_flight: int, outcome: Outcome) -> None: ...
    def close(self) -> None: ...


def _rate(done: int, since: float) -> float:
    elapsed = time.monotonic() - since
    return done / elapsed if elapsed > 0 else 0.0


class LiveBar:
    """A rich progress bar: done / total, failed, in flight, characters, rate, elapsed, ETA."""

    def __init__(self, total: int) -> None:
        # rich loads here, on a terminal during an apply, not when every command starts.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.total = total
        self.started = time.monotonic()
        self._bar = Progress(
            TextColumn("[bold]apply"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed, {task.fields[flying]} in flight,"),
            TextColumn("{task.fields[chars]} chars, {task.fields[rate]:.1f} items/s,"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=False),
            transient=False,
        )
        self._task = self._bar.add_task("apply", total=total, failed=0, flying=0, chars=0, rate=0.0)
        self._bar.start()

    def update(self, in_flight: int, outcome: Outcome) -> None:
        done = len(outcome.finished) + len(outcome.failed)
        self._bar.update(
            self._task,
            completed=done,
            failed=len(outcome.failed),
            flying=in_flight,
            chars=outcome.characters,
            rate=_rate(done, self.started),
        )

    def close(self) -> None:
        self._bar.stop()


class Lines:
    """A plain progress line every few seconds, for CI logs and pipes."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self._next = self.started + LINE_EVERY

    def update(self, in_flight: int, outcome: Outcome) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + LINE_EVERY
        done = len(outcome.finished) + len(outcome.failed)
        rate = _rate(done, self.started)
        eta = f", about {(self.total - done) / rate:.0f} s to go" if rate else ""
        click.echo(
            f"progress: {done}/{self.total} done ({len(outcome.failed)} failed), "
            f"{in_flight} in flight, {outcome.characters} characters, {rate:.1f} items/s, "
            f"{now - self.started:.0f} s elapsed{eta}"
        )

    def close(self) -> None:
        pass
