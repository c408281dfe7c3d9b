"""Machine-readable output: one JSON document per command on standard output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import click

from voxform.apply.executor import Outcome
from voxform.errors import Problem, RetryableError
from voxform.plan.plan import Change, Plan
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry


def emit(document: object) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False))


@dataclass
class JsonReporter:
    """Progress stays quiet; each command prints one document at the end."""

    errors: list[str] = field(default_factory=list)

    def problems(self, problems: list[Problem]) -> None:
        emit(
            {
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
        )

    def plan(self, plan: Plan, *, show_unchanged: bool) -> None:
        emit(
            {
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
        )

    def request(self, rendered: RenderedItem) -> None:
        r = rendered.request
        emit(
            {
                "id": rendered.id,
                "EditingConfig": r.editing.to_wire(),
                "InputConfig": r.input,
                "OutputConfig": {"bucket": r.bucket, "object": r.object_key},
                "SampleRate": r.sample_rate,
                "Title": r.title,
                "Description": r.description,
                "UserData": r.user_data,
            }
        )

    def item_started(self, change: Change) -> None:
        pass

    def item_done(self, change: Change, entry: LockEntry) -> None:
        pass

    def retrying(self, change: Change, error: RetryableError, delay: float) -> None:
        pass

    def outcome(self, outcome: Outcome) -> None:
        emit(
            {
                "finished": outcome.finished,
                "failed": [{"id": i, "code": c, "message": m} for i, c, m in outcome.failed],
                "characters": outcome.characters,
                "audio_seconds": round(outcome.audio_seconds, 3),
                "interrupted": outcome.interrupted,
                "errors": self.errors,
            }
        )

    def info(self, message: str) -> None:
        pass

    def error(self, message: str) -> None:
        self.errors.append(message)
        click.echo(f"error: {message}", err=True)
