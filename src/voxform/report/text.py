"""Output for people on a terminal or in a CI log, and GitHub annotations."""

from __future__ import annotations

import json
import sys

import click

from voxform.apply.executor import Outcome
from voxform.errors import Problem, RetryableError
from voxform.plan.plan import Change, Plan
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry

SYMBOLS = {
    "create": "+",
    "update": "~",
    "retry": "↻",
    "resume": "…",
    "delete": "-",
    "unchanged": " ",
}
COLORS = {
    "create": "green",
    "update": "yellow",
    "retry": "yellow",
    "resume": "cyan",
    "delete": "red",
    "unchanged": None,
}


class TextReporter:
    """Plain lines; colour only on a terminal (click strips it elsewhere)."""

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            click.echo(f"{problem.location}: {click.style('error', fg='red')}: {problem.message}")
        if problems:
            noun = "error" if len(problems) == 1 else "errors"
            click.echo(f"{len(problems)} {noun} found", err=True)

    def plan(self, plan: Plan, *, show_unchanged: bool) -> None:
        self.total = len(plan.pending)
        for change in plan.changes:
            if change.action == "unchanged" and not show_unchanged:
                continue
            symbol = click.style(SYMBOLS[change.action], fg=COLORS[change.action])
            reasons = f" ({'; '.join(change.reasons)})" if change.reasons else ""
            click.echo(
                f"  {symbol} {change.id}: {change.action}{reasons}, {change.characters} chars"
            )
        if plan.orphans:
            click.echo(
                f"note: {len(plan.orphans)} lockfile item(s) no longer in the manifests: "
                + ", ".join(plan.orphans[:10])
                + (" ..." if len(plan.orphans) > 10 else "")
            )
        summary = plan.summary()
        if not plan.pending:
            click.echo("No changes. Audio is up to date with the manifests.")
            return
        parts = [
            f"{summary[a]} to {a}" for a in ("create", "update", "retry", "resume") if summary[a]
        ]
        click.echo(f"Plan: {', '.join(parts)}; {summary['characters']} characters to synthesize.")

    def request(self, rendered: RenderedItem) -> None:
        request = rendered.request
        document = {
            "Action": "SubmitAudioProduceJob",
            "EditingConfig": request.editing.to_wire(),
            "InputConfig": request.input,
            "OutputConfig": {"bucket": request.bucket, "object": request.object_key},
            "SampleRate": request.sample_rate,
        }
        for key, value in (
            ("Title", request.title),
            ("Description", request.description),
            ("UserData", request.user_data),
        ):
            if value is not None:
                document[key] = value
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))

    def item_started(self, change: Change) -> None:
        pass

    def item_done(self, change: Change, entry: LockEntry) -> None:
        self.count += 1
        where = f"[{self.count}/{self.total}]" if self.total else ""
        if entry.state == "finished":
            detail = f"{entry.duration:.1f}s" if entry.duration is not None else "done"
            click.echo(f"{where} {change.id}: {click.style('finished', fg='green')} ({detail})")
        else:
            click.echo(
                f"{where} {change.id}: {click.style('failed', fg='red')}: "
                f"{entry.error_code}: {entry.error_message}"
            )

    def retrying(self, change: Change, error: RetryableError, delay: float) -> None:
        click.echo(f"  {change.id}: {error.code or 'transient error'}, retrying in {delay:.1f}s")

    def outcome(self, outcome: Outcome) -> None:
        minutes = outcome.audio_seconds / 60
        line = (
            f"Apply complete: {len(outcome.finished)} done, {len(outcome.failed)} failed, "
            f"{outcome.characters} characters, {minutes:.1f} audio minutes, "
            f"{outcome.seconds:.1f}s."
        )
        if outcome.interrupted:
            line = "Interrupted: state saved. " + line
        click.echo(line)

    def info(self, message: str) -> None:
        click.echo(message)

    def error(self, message: str) -> None:
        click.echo(f"{click.style('error', fg='red')}: {message}", err=True)


class GithubReporter(TextReporter):
    """Text output plus `::error` workflow commands that GitHub shows on the diff."""

    def problems(self, problems: list[Problem]) -> None:
        super().problems(problems)
        for p in problems:
            message = p.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            sys.stdout.write(
                f"::error file={p.location.file},line={p.location.line},"
                f"col={p.location.column},title=voxform {p.rule}::{message}\n"
            )

    def error(self, message: str) -> None:
        super().error(message)
        sys.stdout.write(f"::error title=voxform::{message}\n")
