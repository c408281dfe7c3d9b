"""Machine-readable output: one JSON document per command on standard output.

Every document has `format_version`, `errors` and `warnings` (lists of objects with a
`message`, and `file`, `line`, `column` and `rule` where there is a place), beside what the
command reports. It is printed when the command is over, so an error that ends a command
still reaches standard output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring

import click

from voxform.apply.outcome import Outcome
from voxform.errors import Problem, RetryableError
from voxform.plan.plan import Change, Plan
from voxform.pull.outcome import PullOutcome
from voxform.report.base import inert_json, printable
from voxform.state.lockfile import LockEntry
from voxform.state.summary import Summary

FORMAT_VERSION = 1


def _change(change: Change) -> dict[str, object]:
    """One change of `plan --json`: the files it deletes and keeps only when there are any."""
    document: dict[str, object] = {
        "id": change.id,
        "action": change.action,
        "reasons": list(change.reasons),
        "characters": change.characters,
    }
    if change.source is not None:
        document["from"] = change.source
    if change.deletes:
        document["deletes"] = list(change.deletes)
    if change.kept:
        document["kept"] = [{"file": k.file, "reason": k.why} for k in change.kept]
    return document


class JsonReporter:
    """Progress stays quiet; each command prints one document at the end."""

    def __init__(self) -> None:
        self.errors: list[dict[str, object]] = []
        self.warnings: list[dict[str, object]] = []
        self.document: dict[str, object] | None = None

    def problems(self, problems: list[Problem]) -> None:
        for p in problems:
            (self.errors if p.severity == "error" else self.warnings).append(
                {
                    "file": p.location.file,
                    "line": p.location.line,
                    "column": p.location.column,
                    "message": p.message,
                    "rule": p.rule,
                }
            )
        self.document = {"valid": not any(p.severity == "error" for p in problems)}

    def valid(self, items: int, files: int) -> None:
        pass  # `problems([])` already said so

    def plan(self, plan: Plan, *, show_unchanged: bool) -> None:
        self.document = {  # the changes as they are: _dumps spells them (as _change would)
            "changes": [c for c in plan.changes if show_unchanged or c.action != "unchanged"],
            "orphans": list(plan.orphans),
            "summary": plan.summary(),
        }

    def apply_plan(self, plan: Plan) -> None:
        pass  # apply prints one document: its outcome

    def request(self, item_id: str, document: dict[str, object]) -> None:
        self.document = {"id": item_id, **document}

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
            "deleted": outcome.deleted,
            "kept": [{"file": f, "reason": why} for f, why in outcome.kept],
            "unpruned": outcome.unpruned,
            "copied": [{"id": i, "from": f} for i, f in outcome.copied],
            "copy_fallbacks": [
                {"id": i, "from": f, "reason": why} for i, f, why in outcome.copy_fallbacks
            ],
        }

    def pull_failed(self, item_id: str, code: str, message: str) -> None:
        pass

    def pull_running(self, outcome: PullOutcome) -> None:
        pass

    def pulled(self, outcome: PullOutcome, folders: list[str]) -> None:
        self.document = {
            "folders": folders,
            "downloaded": [{"id": i, "file": f, "bytes": n} for i, f, n in outcome.downloaded],
            "unchanged": outcome.unchanged,
            "failed": [{"id": i, "code": c, "message": m} for i, c, m in outcome.failed],
            "refused": outcome.refused,
            "retried": outcome.retried,
            "calls": dict(sorted(outcome.calls.items())),
            "seconds": round(outcome.seconds, 3),
        }

    def link(self, item_id: str, url: str, expires: int) -> None:
        self.document = {"id": item_id, "url": url, "expires": expires}

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
        self.warnings.append({"message": message})
        click.echo(f"warning: {printable(message)}", err=True)

    def error(self, message: str) -> None:
        self.errors.append({"message": message})
        click.echo(f"error: {printable(message)}", err=True)

    def finish(self) -> None:
        if self.document is None and not self.errors and not self.warnings:
            return
        document = {
            "format_version": FORMAT_VERSION,
            **(self.document or {}),
            "errors": self.errors,
            "warnings": self.warnings,
        }
        # Written a few hundred changes at a time: 100,000 changes are some 14 MB of text,
        # made and copied whole three times over otherwise. No `##[` spans two pieces (each
        # ends where a JSON value or a separator ends).
        for piece in _pieces(document):
            click.echo(inert_json(piece), nl=False)
        click.echo()


def _dumps(document: dict[str, object]) -> str:
    """json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False), with a long list
    of changes encoded one change at a time: json's indenting encoder keeps a string per
    token until the end, some 180 MB for 100,000 changes. A Change among them is written as
    its `_change` document."""
    return "".join(_pieces(document))


_PIECE = 500  # changes in a piece of a document


def _pieces(document: dict[str, object]) -> Iterator[str]:
    """_dumps(document), in pieces that end where a value or a separator ends."""
    changes = document.get("changes")
    if not isinstance(changes, list) or not changes:
        yield _encode(document)
        return
    stand_in = "\0changes\0"
    parts = _encode({**document, "changes": stand_in}).split(_encode(stand_in))
    if len(parts) != 2:
        listed = [_change(c) if isinstance(c, Change) else c for c in changes]
        yield _encode({**document, "changes": listed})
        return
    # An item of a list in a top-level value is indented by 4 more spaces, line by line
    # (JSON strings hold no line break).
    spelt: _Spelt = {}  # a few actions and reasons, shared by many changes
    yield f"{parts[0]}[\n    "
    for start in range(0, len(changes), _PIECE):
        items = ",\n    ".join(
            _spelt_change(change, spelt)
            if isinstance(change, Change)
            else _encode_change(change).replace("\n", "\n    ")
            for change in changes[start : start + _PIECE]
        )
        yield f",\n    {items}" if start else items
    yield f"\n  ]{parts[1]}"


def _encode(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


_PLAIN_CHANGE = frozenset({"action", "characters", "id", "reasons"})


def _encode_change(change: object) -> str:
    """_encode(change), spelt out for a change of the usual shape (what json.dumps writes
    of its strings, a number and a list of strings)."""
    if not isinstance(change, dict) or change.keys() != _PLAIN_CHANGE:
        return _encode(change)
    action, characters, item, reasons = (change[k] for k in sorted(_PLAIN_CHANGE))
    if not (
        isinstance(action, str)
        and type(characters) is int
        and isinstance(item, str)
        and isinstance(reasons, list)
        and all(isinstance(reason, str) for reason in reasons)
    ):
        return _encode(change)
    listed = ",\n    ".join(map(encode_basestring, reasons))
    spelt = f"[\n    {listed}\n  ]" if reasons else "[]"
    return (
        f'{{\n  "action": {encode_basestring(action)},\n  "characters": {characters!r},\n'
        f'  "id": {encode_basestring(item)},\n  "reasons": {spelt}\n}}'
    )


# What comes before a change's characters and after its id, by its action and reasons.
_Spelt = dict[tuple[str, tuple[str, ...]], tuple[str, str]]


def _spelt_change(change: Change, spelt: _Spelt) -> str:
    """_encode_change(_change(change)) indented as an item of the list of changes, spelt
    straight from the change when it is of the usual shape (no dict made on the way);
    `spelt` keeps what comes before its characters and after its id spelt once for each
    action and list of reasons (a few, shared by many changes)."""
    if (
        change.source is not None
        or change.deletes
        or change.kept
        or type(change.characters) is not int
    ):
        return _encode_change(_change(change)).replace("\n", "\n    ")
    key = (change.action, change.reasons)
    found = spelt.get(key)
    if found is None:
        inner = ",\n        ".join(map(encode_basestring, change.reasons))
        listed = f"[\n        {inner}\n      ]" if inner else "[]"
        found = spelt[key] = (
            f'{{\n      "action": {encode_basestring(change.action)},\n      "characters": ',
            f',\n      "reasons": {listed}\n    }}',
        )
    item = encode_basestring(change.id)
    return f'{found[0]}{change.characters!r},\n      "id": {item}{found[1]}'
