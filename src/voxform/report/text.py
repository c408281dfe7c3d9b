"""Output for people on a terminal or in a CI log."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

import click

from voxform.apply.outcome import Outcome
from voxform.errors import Problem, RetryableError, ThrottledError
from voxform.plan.plan import Change, Plan
from voxform.pull.outcome import PullOutcome
from voxform.report.base import inert_json, plan_cost, printable
from voxform.report.progress import Display, Lines, LiveBar
from voxform.report.pulling import PullBar, PullLines, pull_summary
from voxform.state.lockfile import LockEntry
from voxform.state.outputs import split_object_url
from voxform.state.summary import Summary

SYMBOLS = {
    "create": "+",
    "update": "~",
    "copy": "=",
    "retry": "↻",
    "resume": "…",
    "delete": "-",
    "unchanged": " ",
}
COLORS = {
    "create": "green",
    "update": "yellow",
    "copy": "green",
    "retry": "yellow",
    "resume": "cyan",
    "delete": "red",
    "unchanged": None,
}
METADATA = ("Title", "Description", "UserData")  # shown only when set
ITEM_LINES = 100  # up to this many items, each finished one gets a line of its own
_LINES_AT_ONCE = 4096  # a plan's lines written at once


def _file_counts(summary: dict[str, int]) -> str:
    """The plan's files to delete and to keep, for its last line ("" when none)."""
    parts = []
    if summary.get("files_to_delete"):
        parts.append(f"{summary['files_to_delete']} file(s) to delete")
    if summary.get("files_to_prune"):
        parts.append(f"{summary['files_to_prune']} file(s) to delete with --prune")
    if summary.get("objects_to_delete"):
        parts.append(f"{summary['objects_to_delete']} object(s) to delete")
    if summary.get("objects_to_prune"):
        parts.append(f"{summary['objects_to_prune']} object(s) to delete with --prune")
    if summary.get("files_kept"):
        parts.append(f"{summary['files_kept']} file(s) kept (named above)")
    return "; " + ", ".join(parts) if parts else ""


def row(change: Change) -> str:
    """A change as the plan lists it: its action, why, and what it costs."""
    reasons = f" ({'; '.join(change.reasons)})" if change.reasons else ""
    if change.action == "copy":
        return f"{change.id}: copy{reasons}, copied from {change.source}, 0 characters billed"
    return f"{change.id}: {change.action}{reasons}, {change.characters} chars"


class TextReporter:
    """Plain lines; colour only on a terminal (click strips it elsewhere). While apply runs:
    a live bar on a terminal, a progress line every few seconds elsewhere; each failure is
    told as it happens, each success only in small runs without a bar."""

    def __init__(self, *, live: bool | None = None) -> None:
        self.total = 0
        self.count = 0
        self.live = sys.stdout.isatty() if live is None else live
        # Once: click asks the terminal on every echo. NO_COLOR: https://no-color.org
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.display: Display | None = None
        self.throttled = 0
        self.shown_kept: set[str] = set()  # kept files the plan named already
        self.pulling: PullBar | PullLines | None = None

    def problems(self, problems: list[Problem]) -> None:
        for problem in problems:
            color = "red" if problem.severity == "error" else "yellow"
            label = click.style(problem.severity, fg=color)
            click.echo(f"{printable(problem.location)}: {label}: {printable(problem.message)}")
        errors = sum(p.severity == "error" for p in problems)
        warnings = len(problems) - errors
        counts = [
            f"{n} {noun}{'' if n == 1 else 's'}"
            for n, noun in ((errors, "error"), (warnings, "warning"))
            if n
        ]
        if counts:
            click.echo(f"{' and '.join(counts)} found", err=True)

    def valid(self, items: int, files: int) -> None:
        click.echo(f"Valid: {items} items in {files} manifest file(s).")

    def plan(self, plan: Plan, *, show_unchanged: bool) -> None:
        self.total = len(plan.synthesizing)
        symbols = {action: click.style(SYMBOLS[action], fg=COLORS[action]) for action in SYMBOLS}
        lines: list[str] = []  # echoed some thousands at a time: an echo costs 5 us
        for change in plan.changes:
            if change.action == "unchanged" and not show_unchanged:
                continue
            lines.append(f"  {symbols[change.action]} {printable(row(change))}")
            if change.deletes or change.kept:
                self._files(change, lines)
            if len(lines) >= _LINES_AT_ONCE:
                click.echo("\n".join(lines))
                lines.clear()
        if lines:
            click.echo("\n".join(lines))
        summary = plan.summary()
        if not plan.pending:
            click.echo("No changes. Audio is up to date with the manifests.")
            return
        parts = [
            f"{summary[a]} to {a}"
            for a in ("create", "update", "copy", "retry", "resume")
            if summary[a]
        ]
        if summary["delete"]:
            parts.append(f"{summary['delete']} to delete (with apply --prune)")
        click.echo(f"Plan: {', '.join(parts)}; {plan_cost(summary)}{_file_counts(summary)}.")

    def _files(self, change: Change, lines: list[str]) -> None:
        """The files a change deletes and those it keeps, each a line under it in `lines`."""
        minus = click.style("-", fg="red")
        for name in change.deletes:
            lines.append(f"      {minus} {printable('deletes ' + name)}")
        for kept in change.kept:
            self.shown_kept.add(kept.file)
            lines.append(f"      ! {printable(f'keeps {kept.file}: {kept.why}')}")

    def apply_plan(self, plan: Plan) -> None:
        self.plan(plan, show_unchanged=False)

    def running(self, in_flight: int, outcome: Outcome) -> None:
        if self.display is None:
            self.display = LiveBar(self.total) if self.live else Lines(self.total)
        self.display.update(in_flight, outcome)

    def request(self, item_id: str, document: dict[str, object]) -> None:
        shown = {k: v for k, v in document.items() if v is not None or k not in METADATA}
        click.echo(inert_json(json.dumps(shown, indent=2, ensure_ascii=False)))

    def item_done(self, change: Change, entry: LockEntry) -> None:
        self.count += 1
        where = f"[{self.count}/{self.total}]" if self.total else ""
        if entry.state == "finished":
            if self.live or self.total > ITEM_LINES:
                return  # the bar, or the progress lines, count it
            audio = f"{entry.duration:.1f} s of audio" if entry.duration is not None else "done"
            finished = click.style("finished", fg="green")
            click.echo(f"{where} {printable(change.id)}: {finished}, {audio}", color=self.color)
        else:
            why = printable(f"{entry.error_code}: {entry.error_message}")
            click.echo(f"{where} {printable(change.id)}: {click.style('failed', fg='red')}: {why}")

    def retrying(self, change: Change, error: RetryableError, delay: float) -> None:
        if isinstance(error, ThrottledError):
            self.throttled += 1  # routine pacing: counted in the summary, not told each time
            return
        message = f"{change.id}: {error.code or 'transient error'}, retrying in {delay:.1f} s"
        click.echo("  " + printable(message), err=self.live)

    def outcome(self, outcome: Outcome) -> None:
        if self.display is not None:
            self.display.update(0, outcome)  # the last item's end, before the bar stops
            self.display.close()
            self.display = None
        if not (
            outcome.finished
            or outcome.failed
            or outcome.interrupted
            or outcome.unresolved
            or outcome.unsent
            or outcome.pruned
            or outcome.deleted
            or outcome.kept
            or outcome.unpruned
        ):
            return  # nothing was applied; the plan already said why
        minutes = outcome.audio_seconds / 60
        throttled = f", {self.throttled} throttled calls retried" if self.throttled else ""
        unfinished = outcome.failed or outcome.fatal or outcome.unresolved
        ended = "Apply failed" if unfinished else "Apply complete"
        line = (
            f"{ended}: {len(outcome.finished)} done, {len(outcome.failed)} failed, "
            f"{outcome.characters} characters, {minutes:.1f} minutes of audio, "
            f"{outcome.seconds:.1f} s elapsed{throttled}."
        )
        if outcome.copied:
            line += (
                f" {len(outcome.copied)} of those done were copied from audio already made"
                " (no characters billed)."
            )
        if outcome.interrupted:
            line = "Interrupted: state saved. " + line
        if outcome.pruned:
            line += f" Pruned {len(outcome.pruned)} item(s) no longer in the manifests."
        if outcome.deleted:
            line += f" Deleted {_files_and_objects(outcome.deleted)} it no longer needs."
        if outcome.kept:
            kept = _files_and_objects([name for name, _ in outcome.kept])
            line += f" Kept {kept} the lockfile named (each said why)."
        if outcome.unpruned:
            line += (
                f" {len(outcome.unpruned)} removed item(s) stay in the lockfile, naming only "
                "the files kept that may yet go; apply --prune tries them again."
            )
        if outcome.remote:
            shown = ", ".join(outcome.remote[:10]) + (" ..." if len(outcome.remote) > 10 else "")
            line += (
                f" {len(outcome.remote)} object(s) stay in the bucket (the lockfile records no"
                f" ETag for them, so nothing shows they are still what voxform wrote), to remove"
                f" by hand: {shown}"
            )
        if outcome.unresolved:
            line += (
                f" {len(outcome.unresolved)} item(s) left pending: whether their submissions "
                "arrived could not be looked up; the next apply looks again."
            )
        if outcome.irreproducible:
            shown = ", ".join(f"{i} ({name})" for i, name in outcome.irreproducible[:10])
            more = " ..." if len(outcome.irreproducible) > 10 else ""
            line += (
                f" warning: {len(outcome.irreproducible)} rebuilt file(s) differ from the digest "
                f"in the lockfile, so the engine or its inputs are not what the lockfile claims: "
                f"{shown}{more}"
            )
        if outcome.unsent:
            line += (
                f" {len(outcome.unsent)} item(s) were never submitted (an earlier apply "
                "stopped before sending them); apply sends them."
            )
        for item_id, source, why in outcome.copy_fallbacks:
            click.echo(
                "  "
                + printable(f"{item_id}: copy from {source} failed ({why}); synthesized instead")
            )
        click.echo(printable(line))
        for name, why in outcome.kept:
            if name not in self.shown_kept:
                click.echo("  " + printable(f"kept {name}: {why}"))

    def status(self, summary: Summary, lockfile: str) -> None:
        def counts(states: dict[str, int]) -> str:
            return ", ".join(f"{n} {state}" for state, n in states.items() if n) or "nothing"

        minutes = summary.audio_seconds / 60
        click.echo(
            printable(
                f"{lockfile}: {summary.items} items: {counts(summary.states)}; "
                f"{summary.characters} characters, {minutes:.1f} minutes of audio"
            )
        )
        for target, states in summary.targets.items():
            click.echo("  " + printable(f"{target}: {counts(states)}"))
        if summary.pending:
            click.echo("pending (apply or refresh collects them):")
            for item_id, job_id in summary.pending:
                how = f"job {job_id}" if job_id else "job id unknown: looked up by its token"
                click.echo("  " + printable(f"{item_id}: {how}"))
        if summary.failed:
            click.echo("failed (the next apply tries them again):")
            for item_id, code, message in summary.failed:
                click.echo("  " + printable(f"{item_id}: {code}: {message}"))

    def pull_failed(self, item_id: str, code: str, message: str) -> None:
        failed = click.style("failed", fg="red")
        click.echo(f"{printable(item_id)}: {failed}: {printable(f'{code}: {message}')}")

    def pull_running(self, outcome: PullOutcome) -> None:
        if self.pulling is None:
            self.pulling = PullBar(outcome.total) if self.live else PullLines()
        self.pulling.update(outcome)

    def pulled(self, outcome: PullOutcome, folders: list[str]) -> None:
        if self.pulling is not None:
            self.pulling.update(outcome)
            self.pulling.close()
            self.pulling = None
        click.echo(printable(pull_summary(outcome, folders)))

    def link(self, item_id: str, url: str, expires: int) -> None:
        click.echo(printable(url))  # alone on standard output: `voxform url ID | pbcopy`
        click.echo(f"(valid for {expires} s)", err=True)

    def info(self, message: str) -> None:
        click.echo("\n".join(printable(line) for line in message.split("\n")))

    def warning(self, message: str) -> None:
        click.echo(f"{click.style('warning', fg='yellow')}: {printable(message)}", err=True)

    def error(self, message: str) -> None:
        click.echo(f"{click.style('error', fg='red')}: {printable(message)}", err=True)

    def finish(self) -> None:
        pass


def _files_and_objects(names: Sequence[str]) -> str:
    """`N file(s)`, `N object(s)` or `N file(s) and M object(s)`: a count of `names`, project
    files and `oss://` objects apart."""
    objects = sum(1 for name in names if split_object_url(name) is not None)
    files = len(names) - objects
    parts = [f"{files} file(s)"] if files or not objects else []
    parts += [f"{objects} object(s)"] if objects else []
    return " and ".join(parts)
