"""Markdown for reviewers: a plan as a pull-request comment or a job summary.

A summary table, then every change with its reasons inside a collapsed block, cut at
CAP characters (GitHub refuses comments over 65,536) with a line saying how many more there
are. Ids are shown as code and reasons escaped, so a manifest cannot inject markup.
"""

from __future__ import annotations

import click

from voxform.errors import Problem
from voxform.plan.plan import ACTIONS, Change, Plan
from voxform.report.base import plan_cost, printable
from voxform.report.text import SYMBOLS, TextReporter

CAP = 60_000  # characters of one document, well under GitHub's 65,536


def code(text: str) -> str:
    """`text` as inline code that a backtick in it cannot end early."""
    text = printable(text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_CELL = str.maketrans({"\\": "\\\\", "|": "\\|", "<": "&lt;", ">": "&gt;", "\r": " ", "\n": " "})


def cell(text: str) -> str:
    """Text for a table cell: no pipes, tags or line breaks that would break the table."""
    return printable(text.translate(_CELL))


class MarkdownReporter(TextReporter):
    """`--format markdown`: plans and problems as Markdown; the rest as text."""

    def plan(self, plan: Plan, *, show_unchanged: bool) -> None:
        click.echo(render_plan(plan, show_unchanged=show_unchanged), nl=False)

    def problems(self, problems: list[Problem]) -> None:
        if not problems:
            return
        lines = [f"### voxform validate: {len(problems)} problem(s)", ""]
        for problem in problems:
            where = f"{problem.location.file}:{problem.location.line}:{problem.location.column}"
            label = "" if problem.severity == "error" else "warning: "
            lines.append(f"- {code(where)}: {label}{cell(problem.message)}")
        click.echo(_capped(lines, len(problems)), nl=False)


def render_plan(plan: Plan, *, show_unchanged: bool = False) -> str:
    """The plan as a Markdown document of at most CAP characters."""
    summary = plan.summary()
    shown = [c for c in plan.changes if show_unchanged or c.action != "unchanged"]
    if not plan.pending:
        headline = "No changes. Audio is up to date with the manifests."
    else:
        parts = [f"{summary[a]} to {a}" for a in ACTIONS if a != "unchanged" and summary[a]]
        headline = f"{', '.join(parts)}; {plan_cost(summary)}"
    lines = [f"### voxform plan: {headline}", ""]
    counts = [
        (a, summary[a]) for a in ACTIONS if summary[a] and (show_unchanged or a != "unchanged")
    ]
    if counts:
        lines += ["| action | items | characters |", "| --- | ---: | ---: |"]
        for action, count in counts:
            characters = sum(c.characters for c in plan.changes if c.action == action)
            lines.append(f"| {action} | {count:,} | {characters:,} |")
        lines.append("")
    if shown:
        lines += [
            f"<details><summary>{len(shown):,} change(s)</summary>",
            "",
            "| | item | action | reasons | characters |",
            "| --- | --- | --- | --- | ---: |",
        ]
        lines += [_row(change) for change in shown]
        return _capped(lines, len(shown), closing=["", "</details>"])
    return "\n".join(lines).rstrip() + "\n"


def _row(change: Change) -> str:
    reasons = cell("; ".join(change.reasons)) or " "
    symbol = cell(SYMBOLS[change.action].strip()) or " "
    return f"| {symbol} | {code(change.id)} | {change.action} | {reasons} | {change.characters:,} |"


def _capped(lines: list[str], rows: int, closing: list[str] | None = None) -> str:
    """`lines` (whose last `rows` are rows) cut so that the document stays under CAP."""
    closing = closing or []
    budget = CAP - sum(len(line) + 1 for line in closing) - 200
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            dropped = len(lines) - index
            kept.append(
                f"| … | {dropped:,} more not shown: see `voxform plan --json` | | | |"
                if closing
                else f"- … and {dropped:,} more (see the job log)"
            )
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join([*kept, *closing]).rstrip() + "\n"
