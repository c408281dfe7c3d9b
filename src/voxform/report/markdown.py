"""Markdown for reviewers: a plan as a pull-request comment or a job summary.

A summary table, then every change with its reasons inside a collapsed block, cut at
CAP characters (GitHub refuses comments over 65,536) with a line saying how many more there
are.

Nothing from a manifest, a lockfile or the service becomes markup in the comment: ids and
places are code spans (inside which GitHub interprets nothing, and a fence longer than any
run of backticks in them cannot be ended early), every other text goes through `cell`, which
escapes what Markdown and GitHub read in running text: emphasis, code, links and images,
HTML and entities, table pipes, math, and the mentions, issue references and bare URLs that
GitHub links (and notifies) after rendering, broken by a zero-width space. No text can
start a line of its own, so none can open a heading, a list, a quote or a code fence.
"""

from __future__ import annotations

import re

import click

from voxform.errors import Problem
from voxform.plan.plan import ACTIONS, Change, Plan
from voxform.report.base import plan_cost, printable
from voxform.report.text import SYMBOLS, TextReporter

CAP = 60_000  # characters of one document, well under GitHub's 65,536

_BACKTICKS = re.compile(r"`+")


def code(text: str, *, in_table: bool = False) -> str:
    """`text` as a code span that nothing in it can end early (in a table cell, pipes are
    escaped too: GitHub splits cells at a pipe even inside code)."""
    text = printable(text)
    fence = "`" * (max(map(len, _BACKTICKS.findall(text)), default=0) + 1)
    # A space on each side, which the span drops, keeps a backtick at an end apart from the
    # fence, and spaces of the text's own at both ends from being dropped.
    padded = text[:1] in ("`", " ") or text[-1:] in ("`", " ") or not text
    pad = " " if padded else ""
    if in_table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


ZERO_WIDTH = "&#8203;"  # breaks a mention or a link GitHub would make, shows nothing
_INLINE = str.maketrans(
    {
        **{c: "\\" + c for c in "\\`*_~[]|"},
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "$": "&#36;",  # math: a backslash does not reliably keep GitHub from `$...$`
        "@": "@" + ZERO_WIDTH,  # @user, @org/team, and e-mail addresses
        "#": "#" + ZERO_WIDTH,  # #123 and owner/repo#123 issue references
    }
)
# Bare URLs (http://, https://, ftp://, www.) and GH-123 references, linked by GitHub.
_LINKED = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?<=\bgh)(?=-\d)", re.IGNORECASE)
_BREAKS = str.maketrans({"\r": " ", "\n": " "})


def cell(text: str) -> str:
    """`text` as inert inline Markdown, for a table cell or a list item: one line, every
    markup character escaped, nothing GitHub would link or notify."""
    return _LINKED.sub(ZERO_WIDTH, printable(text.translate(_BREAKS)).translate(_INLINE))


class MarkdownReporter(TextReporter):
    """`--format markdown`: plans and problems as Markdown; the rest as text."""

    def info(self, message: str) -> None:
        click.echo("\n\n".join(cell(line) for line in message.split("\n")))

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
    copied = [f"copied from {change.source}, 0 characters billed"] if change.source else []
    said = [
        *change.reasons,
        *copied,
        *(f"deletes {name}" for name in change.deletes),
        *(f"keeps {kept.file}: {kept.why}" for kept in change.kept),
    ]
    reasons = cell("; ".join(said)) or " "
    symbol = SYMBOLS[change.action].strip() or " "  # ours: a lone ~ strikes nothing through
    item = code(change.id, in_table=True)
    return f"| {symbol} | {item} | {change.action} | {reasons} | {change.characters:,} |"


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
