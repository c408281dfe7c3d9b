"""The GitHub workflow's voxform and git steps, run on a `voxform init`-ed project.

The workflow under test is the one `voxform init` wrote into the project. The steps that need
GitHub (checkout, artifacts, the pull request comment, finding the reviewed plan) are stood in
for by copying files where those steps put them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipelines.ci import (
    Runner,
    checkout,
    checkout_change,
    git,
    github_runner,
    github_step,
    init_project,
    propose_change,
    push_change,
    recorded_project,
    seed_origin,
)

WORKFLOW = ".github/workflows/narration.yml"


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """main holds an init-ed project whose local target is not git-ignored, so that its
    subtitles are project files (like an ICE target's) while its audio is not committed."""
    project = init_project(tmp_path / "seed")
    manifest = project / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("path: build/audio", "path: audio"))
    return seed_origin(tmp_path, project)


def pull_request_plan(tmp_path: Path, origin: Path) -> tuple[Runner, Path]:
    """The pull request job's validate and plan steps; returns its runner and checkout."""
    runner = github_runner(tmp_path, "pr-runner")
    pr = checkout(origin, tmp_path / "pr")
    for step in ("validate", "plan"):
        done = runner.run(github_step(pr / WORKFLOW, "plan", step), pr)
        assert done.returncode == 0, done.stdout + done.stderr
    return runner, pr


def main_job(tmp_path: Path, origin: Path, plan: Path | None) -> tuple[Runner, Path]:
    """A push-to-main job's checkout, with the reviewed plan where its download step puts it."""
    runner = github_runner(tmp_path, "main-runner")
    main = checkout(origin, tmp_path / "main")
    if plan is not None:
        (runner.home / "temp" / "voxform").mkdir()
        shutil.copy(plan, runner.home / "temp" / "voxform" / "plan.json")
    return runner, main


def test_a_pull_request_is_validated_and_its_plan_summarized_and_saved(
    tmp_path: Path, origin: Path
) -> None:
    runner, _ = pull_request_plan(tmp_path, origin)
    summary = (runner.home / "summary.md").read_text()
    assert "voxform plan: 4 to create" in summary
    saved = runner.home / "temp" / "voxform"
    assert json.loads((saved / "plan.json").read_text())["changes"]
    assert (saved / "plan.md").read_text() == summary


def test_an_invalid_manifest_is_annotated_and_its_problems_planned_for_the_comment(
    tmp_path: Path, origin: Path
) -> None:
    runner = github_runner(tmp_path, "pr-runner")
    pr = checkout(origin, tmp_path / "pr")
    manifest = pr / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("voice: narrator,", "voice: narator,"))
    validated = runner.run(github_step(pr / WORKFLOW, "plan", "validate"), pr)
    assert validated.returncode == 1
    assert "::error file=voxform.yaml,line=" in validated.stdout
    planned = runner.run(github_step(pr / WORKFLOW, "plan", "plan"), pr)
    assert planned.returncode == 1
    assert "narrator" in (runner.home / "temp" / "voxform" / "plan.md").read_text()


def test_main_applies_the_reviewed_plan_and_pushes_the_lockfile_over_newer_work(
    tmp_path: Path, origin: Path
) -> None:
    pr_runner, _ = pull_request_plan(tmp_path, origin)
    runner, main = main_job(tmp_path, origin, pr_runner.home / "temp" / "voxform" / "plan.json")
    applied = runner.run(github_step(main / WORKFLOW, "apply", "apply"), main)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    push_change(origin, tmp_path / "colleague", "NOTES.md", "Meanwhile.\n")

    pushed = runner.run(
        github_step(main / WORKFLOW, "apply", "commit voxform.lock and subtitles"), main
    )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    log = git(origin, "log", "--format=%s", "main").splitlines()
    assert log == ["voxform: record applied narration [skip ci]", "edit NOTES.md", "narration"]
    committed = git(origin, "show", "--name-only", "--format=", "main").split()
    assert "voxform.lock" in committed
    assert {Path(name).suffix for name in committed} == {".lock", ".srt", ".vtt"}
    assert "audio/welcome.vtt" in committed  # subtitles yes, audio (build output) no

    (runner.home / "temp" / "voxform" / "plan.json").unlink()
    again = runner.run(github_step(main / WORKFLOW, "apply", "apply"), main)
    assert again.returncode == 0
    assert "Nothing left to apply" in again.stdout


@pytest.mark.parametrize("reviewed", ["stale", "missing"])
def test_main_refuses_a_stale_or_missing_plan_and_shows_what_is_left(
    tmp_path: Path, origin: Path, reviewed: str
) -> None:
    plan = None
    if reviewed == "stale":
        pr_runner, _ = pull_request_plan(tmp_path, origin)
        plan = pr_runner.home / "temp" / "voxform" / "plan.json"
    push_change(origin, tmp_path / "colleague", "texts/01-introduction.md", "Rewritten.\n")
    runner, main = main_job(tmp_path, origin, plan)

    refused = runner.run(github_step(main / WORKFLOW, "apply", "apply"), main)
    assert refused.returncode == 1
    assert "::error title=voxform::not applied" in refused.stdout
    summary = (runner.home / "summary.md").read_text()
    assert "## voxform: not applied" in summary
    assert "run this workflow on main" in summary
    assert "2 to create" in summary  # the rewritten text's one paragraph, and welcome
    if reviewed == "stale":
        assert "make a new plan" in refused.stderr, refused.stderr
    assert not (main / "voxform.lock").exists()
    nothing = runner.run(
        github_step(main / WORKFLOW, "apply", "commit voxform.lock and subtitles"), main
    )
    assert nothing.returncode == 0
    assert "Nothing to commit" in nothing.stdout


def test_a_manual_run_plans_into_the_summary_and_applies_that_plan(
    tmp_path: Path, origin: Path
) -> None:
    runner, main = main_job(tmp_path, origin, None)
    for step in ("plan now", "apply"):
        done = runner.run(github_step(main / WORKFLOW, "apply", step), main)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "voxform plan: 4 to create" in (runner.home / "summary.md").read_text()
    lock = json.loads((main / "voxform.lock").read_text())
    assert {entry["state"] for entry in lock["items"].values()} == {"finished"}


def test_a_pull_request_gets_a_review_page_of_its_change_against_its_base(
    tmp_path: Path,
) -> None:
    """The review job's step on the request's commit (checked out with all history), against
    the target branch's commit, whose lockfile records every item: the page holds the one
    paragraph changed, with a preview to hear, and the checkout is left as it was."""
    origin = seed_origin(tmp_path, recorded_project(tmp_path / "seed"))
    base = propose_change(
        origin,
        tmp_path / "author",
        "texts/01-introduction.md",
        "Add files next to this one, and they are narrated too.",
        "Add files beside this one, and each is narrated in turn.",
    )
    pr = checkout_change(origin, tmp_path / "pr")
    runner = github_runner(tmp_path, "review-runner")
    step = github_step(
        pr / WORKFLOW, "review", "review", {"github.event.pull_request.base.sha": base}
    )
    assert step.env == {"BASE": base}
    done = runner.run(step, pr)
    assert done.returncode == 0, done.stdout + done.stderr

    page = runner.home / "temp" / "review" / "index.html"
    html = page.read_text("utf-8")
    # One card, the changed paragraph: its words diffed, its audio now and its preview.
    assert "narrated <del>too</del><ins>in turn</ins>." in html
    assert html.count("<article") == 1, html
    assert "chapters/01-introduction/" in html  # the changed paragraph's item
    assert "Welcome. This narration" not in html  # an unchanged item is not on the page
    assert len(list((page.parent / "audio").glob("*.mp3"))) == 2  # recorded and preview
    assert git(pr, "status", "--porcelain") == ""


# A stand-in for the GitHub CLI: no comment exists yet; a new one's body is kept in $GH_KEPT.
FAKE_GH = """#!/usr/bin/env bash
echo "$*" >> "$GH_KEPT/calls"
for arg in "$@"; do
  case "$arg" in body=@*) cp "${arg#body=@}" "$GH_KEPT/body.md" ;; esac
done
"""


ARTIFACT = "https://github.com/owner/narration/actions/runs/1/artifacts/2"


@pytest.mark.parametrize("url", [ARTIFACT, ""])
def test_the_plan_comment_links_the_review_page_or_says_it_is_missing(
    tmp_path: Path, origin: Path, url: str
) -> None:
    runner, pr = pull_request_plan(tmp_path, origin)
    kept = tmp_path / "gh"
    kept.mkdir()
    (kept / "gh").write_text(FAKE_GH)
    (kept / "gh").chmod(0o755)
    context = {
        "github.token": "token",
        "github.event.pull_request.number": "7",
        "github.event.pull_request.head.sha": "f" * 40,
        "needs.review.outputs.url": url,
    }
    step = github_step(pr / WORKFLOW, "plan", "comment the plan", context)
    done = runner.run(step, pr, PATH=f"{kept}:{os.environ['PATH']}", GH_KEPT=str(kept))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        (kept / "calls")
        .read_text()
        .splitlines()[-1]
        .startswith("api repos/owner/narration/issues/7/comments -F body=@")
    )
    body = (kept / "body.md").read_text()
    assert body.startswith("<!-- voxform-plan -->\n### voxform plan: 4 to create")
    if url:
        assert f"**[Hear the changed items, now and after]({url})**" in body
    else:
        assert "The review page could not be made: see the review job's log." in body
    assert body.rstrip().splitlines()[-1].startswith(f"<sub>Planned at {'f' * 40}.")
