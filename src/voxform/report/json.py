"""Machine-readable output: one JSON document per command on standard output.

The document is printed when the command is over, so an error that ends a command still
reaches standard output, inside the document or as `{"errors": [...]}`.
"""

from __future__ import annotations

import json

import click

from voxform.apply.outcome import Outcome
from voxform.errors import Problem, RetryableError
from voxform.plan.plan import Change, Plan
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry
from voxform.state.summary import Summary


class JsonReporter:
    """Progress stays quiet; each command prints one document at the end."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.document: dict[str, object] | None = None

    def problems(self, problems: list[Problem]) -> None:
        self.document = {
            "valid": not problems,
            "errors": [
                {
                    "file": p.location.file,
                    "line": p.location.line,
                    "column": p.location.column,
                    "message": p.message,
                    "rule": p.rule,
                }
                for p in problems
            ],
        }

    def valid(self, items: int, files: int) -> None:
        pass  # `problems([])` already said so

    def plan(self, plan: Plan, *, show_unchanged: bool) -> None:
        self.document = {
            "format_version": 1,
            "changes": [
                {
                    "id": c.id,
                    "action": c.action,
                    "reasons": list(c.reasons),
                    "characters": c.characters,
                }
                for c in plan.changes
                if show_unchanged or c.action != "unchanged"
            ],
            "orphans": list(plan.orphans),
            "summary": plan.summary(),
        }

    def apply_plan(self, plan: Plan) -> None:
        pass  # apply prints one document: its outcome

    def request(self, rendered: RenderedItem) -> None:
        self.document = {"id": rendered.id, **rendered.request.document()}

    def running(self, in_flight: int, outcome: Outcome) -> None:
        pass

    def item_done(self, change: Change, entry: LockEntry) -> None:
        pass

    def retrying(self, change: Change, error: RetryableError, delay: float) -> None:
        pass

    def outcome(self, outcome: Outcome) -> None:
        self.document = {
            "finished": outcome.finished,
            "failed": [{"id": i, "code": c, "message": m} for i, c, m in outcome.failed],
            "characters": outcome.characters,
            "audio_seconds": round(outcome.audio_seconds, 3),
            "interrupted": outcome.interrupted,
            "unresolved": outcome.unresolved,
            "unsent": outcome.unsent,
            "irreproducible": [{"id": i, "file": f} for i, f in outcome.irreproducible],
            "pruned": outcome.pruned,
            "remote_objects": outcome.remote,
            "errors": self.errors,
        }

    def status(self, summary: Summary, lockfile: str) -> None:
        self.document = {
            "lockfile": lockfile,
            "items": summary.items,
            "states": summary.states,
            "targets": summary.targets,
            "characters": summary.characters,
            "audio_seconds": summary.audio_seconds,
            "pending": [{"id": i, "job_id": j} for i, j in summary.pending],
            "failed": [{"id": i, "code": c, "message": m} for i, c, m in summary.failed],
        }

    def info(self, message: str) -> None:
        if self.document is None:
            self.document = {"message": message}

    def warning(self, message: str) -> None:
        click.echo(f"warning: {message}", err=True)  # the document stays the command's own

    def error(self, message: str) -> None:
        self.errors.append(message)
        click.echo(f"error: {message}", err=True)

    def finish(self) -> None:
        document = self.document
        if document is None:
            if not self.errors:
                return
            document = {"errors": self.errors}
        click.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))
