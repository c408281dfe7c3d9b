"""`--format markdown`: a plan a reviewer can read in a pull request, never over the cap."""

from __future__ import annotations

from pathlib import Path

from conftest import Runner
from voxform.plan.plan import Change, Plan
from voxform.report.markdown import CAP, cell, code, render_plan


def test_a_plan_in_markdown_has_a_summary_table_and_collapsed_changes(
    quickstart: Path, voxform: Runner
) -> None:
    result = voxform(quickstart, "plan", "--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith(
        "### voxform plan: 10 to create; 578 characters to synthesize, free on the local engine\n"
    )
    assert "| create | 10 | 578 |" in text
    assert "<details><summary>10 change(s)</summary>" in text
    assert "| + | `chapters/02-joins/p3` | create | new item | 40 |" in text
    assert text.rstrip().endswith("</details>")


def test_a_huge_plan_stays_under_the_cap_and_says_what_it_left_out() -> None:
    changes = tuple(
        Change(f"book/part{n // 100:04d}/p{n % 100}", "update", ("text changed",), 1234)
        for n in range(20_000)
    )
    text = render_plan(Plan(changes))
    assert len(text) <= CAP
    assert "| update | 20,000 | 24,680,000 |" in text  # the summary counts everything
    assert "more not shown: see `voxform plan --json`" in text
    assert text.rstrip().endswith("</details>")


def test_reasons_cannot_break_the_table_or_add_markup() -> None:
    assert cell("a | b <img src=x> c\nd") == "a \\| b &lt;img src=x&gt; c d"
    assert code("plain") == "`plain`"
    assert code("with ` tick") == "``with ` tick``"
    change = Change("x", "update", ("voice changed | <b>bold</b>",), 3)
    row = render_plan(Plan((change,))).splitlines()[-3]
    assert row == "| ~ | `x` | update | voice changed \\| &lt;b&gt;bold&lt;/b&gt; | 3 |"


def test_no_changes_in_markdown_says_so(quickstart: Path, voxform: Runner) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    text = voxform(quickstart, "plan", "--format", "markdown").stdout
    assert text == "### voxform plan: No changes. Audio is up to date with the manifests.\n"
