"""The GitLab pipeline's jobs, run on a `voxform init --ci gitlab` project against a fake GitLab
API on 127.0.0.1 and a bare repository standing in for the project's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines.ci import (
    FakeGitLab,
    checkout,
    checkout_change,
    fake_gitlab,
    git,
    gitlab_job,
    gitlab_runner,
    init_project,
    propose_change,
    push_change,
    recorded_project,
    seed_origin,
)

PIPELINE = ".gitlab-ci.yml"
MARKER = "<!-- voxform-plan -->"
REVIEWED = "f" * 40  # the merge request's head commit
REVIEW_JOB = "http://gitlab.test/group/narration/-/jobs/31"  # its pipeline's voxform-review


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return seed_origin(tmp_path, init_project(tmp_path / "seed", "--ci", "gitlab"))


@pytest.fixture
def api() -> Any:
    with fake_gitlab({}) as server:
        yield server


def detached_checkout(origin: Path, where: Path) -> Path:
    """GitLab Runner checks out the pipeline's commit, not a branch."""
    checkout(origin, where)
    git(where, "checkout", "-q", "--detach")
    return where


def merge_request_plan(tmp_path: Path, origin: Path, api: FakeGitLab) -> Path:
    """Run the merge request's validate and plan jobs; returns the saved plan."""
    runner = gitlab_runner(
        tmp_path, "mr-runner", api.url, origin, CI_PIPELINE_SOURCE="merge_request_event"
    )
    mr = detached_checkout(origin, tmp_path / "mr")
    for job in ("voxform-validate", "voxform-plan"):
        done = runner.run(gitlab_job(mr / PIPELINE, job), mr)
        assert done.returncode == 0, done.stdout + done.stderr
    assert "voxform plan: 4 to create" in done.stdout
    return mr / "voxform-plan" / "plan.json"


@pytest.mark.parametrize("review", ["made", "failed"])
def test_a_merge_request_gets_one_plan_note_updated_in_place(
    tmp_path: Path, origin: Path, api: FakeGitLab, review: str
) -> None:
    merge_request_plan(tmp_path, origin, api)
    notes = "/projects/1/merge_requests/7/notes"
    succeeded = [
        {"id": 30, "name": "voxform-review", "web_url": REVIEW_JOB.replace("31", "30")},
        {"id": 31, "name": "voxform-review", "web_url": REVIEW_JOB},  # retried
        {"id": 32, "name": "voxform-plan", "web_url": REVIEW_JOB.replace("31", "32")},
    ]
    jobs = "/projects/1/pipelines/40/jobs?scope[]=success&per_page=100&page=1"
    kept: list[dict[str, Any]] = [
        {"id": 1, "author": {"id": 8}, "body": f"{MARKER} a reviewer quoting the bot"}
    ]

    def create(body: bytes) -> tuple[int, Any]:
        kept.append({"id": 2, "author": {"id": 5}, "body": json.loads(body)["body"]})
        return 201, kept[-1]

    def update(body: bytes) -> tuple[int, Any]:
        kept[1]["body"] = json.loads(body)["body"]
        return 200, kept[1]

    api.routes.update(
        {
            ("GET", "/user"): lambda _: (200, {"id": 5}),
            ("GET", f"{notes}?per_page=100&page=1"): lambda _: (200, kept),
            ("POST", notes): create,
            ("PUT", f"{notes}/2"): update,
            ("GET", jobs): lambda _: (200, succeeded if review == "made" else succeeded[2:]),
        }
    )
    runner = gitlab_runner(
        tmp_path,
        "note-runner",
        api.url,
        origin,
        CI_MERGE_REQUEST_IID="7",
        CI_PIPELINE_ID="40",
        CI_COMMIT_SHA=REVIEWED,
        CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
        VOXFORM_NOTE_TOKEN="note-token",
    )
    for _ in range(2):
        done = runner.run(
            gitlab_job(tmp_path / "mr" / PIPELINE, "voxform-plan-note"), tmp_path / "mr"
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert [method for method, _ in api.calls if method != "GET"] == ["POST", "PUT"]
    assert len(kept) == 2 and kept[0]["body"] == f"{MARKER} a reviewer quoting the bot"
    assert kept[1]["body"].startswith(f"{MARKER}\n### voxform plan: 4 to create")
    assert f"Planned at {REVIEWED}" in kept[1]["body"]
    if review == "made":  # the latest successful review job's artifact, browsed
        link = f"]({REVIEW_JOB}/artifacts/file/build/review/index.html)**"
        assert link in kept[1]["body"]
    else:
        assert "No review page was found" in kept[1]["body"]
        assert "/artifacts/" not in kept[1]["body"]


def test_a_merge_request_gets_a_review_page_of_its_change_against_its_base(
    tmp_path: Path, api: FakeGitLab
) -> None:
    """The review job in a shallow clone of the request's branch, which lacks the commit it
    started from: the job fetches that commit, and the page holds the one paragraph changed."""
    seed = recorded_project(tmp_path / "seed", "--ci", "gitlab")
    origin = seed_origin(tmp_path, seed)
    base = propose_change(
        origin,
        tmp_path / "author",
        "texts/01-introduction.md",
        "Add files next to this one, and they are narrated too.",
        "Add files beside this one, and each is narrated in turn.",
    )
    mr = checkout_change(origin, tmp_path / "mr", depth=1)
    missing = subprocess.run(["git", "cat-file", "-e", f"{base}^{{commit}}"], cwd=mr, check=False)
    assert missing.returncode != 0
    job_url = "http://gitlab.test/group/narration/-/jobs/33"
    runner = gitlab_runner(
        tmp_path,
        "review-runner",
        api.url,
        origin,
        CI_PIPELINE_SOURCE="merge_request_event",
        CI_MERGE_REQUEST_DIFF_BASE_SHA=base,
        CI_JOB_URL=job_url,
    )
    done = runner.run(gitlab_job(mr / PIPELINE, "voxform-review"), mr)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"voxform review: {job_url}/artifacts/file/build/review/index.html" in done.stdout
    html = (mr / "build" / "review" / "index.html").read_text("utf-8")
    # One card, the changed paragraph: its words diffed, its audio now and its preview.
    assert "narrated <del>too</del><ins>in turn</ins>." in html
    assert html.count("<article") == 1, html
    assert "Welcome. This narration" not in html
    assert len(list((mr / "build" / "review" / "audio").glob("*.mp3"))) == 2
    assert git(mr, "status", "--porcelain") == ""  # build/ is git-ignored


def reviewed_in_merge_request_7(api: FakeGitLab, sha: str, plan: bytes) -> None:
    """The API tells: `sha` merged !7, whose pipeline at its head saved `plan`."""
    api.routes.update(
        {
            ("GET", f"/projects/1/repository/commits/{sha}/merge_requests"): lambda _: (
                200,
                [
                    {"iid": 6, "state": "closed", "target_branch": "main", "sha": "e" * 40},
                    {"iid": 7, "state": "merged", "target_branch": "main", "sha": REVIEWED},
                ],
            ),
            ("GET", "/projects/1/merge_requests/7/pipelines"): lambda _: (
                200,
                [{"id": 12, "sha": "d" * 40}, {"id": 11, "sha": REVIEWED}],
            ),
            ("GET", "/projects/1/pipelines/11/jobs?scope[]=success"): lambda _: (
                200,
                [{"id": 20, "name": "voxform-validate"}, {"id": 21, "name": "voxform-plan"}],
            ),
            ("GET", "/projects/1/jobs/21/artifacts/voxform-plan/plan.json"): lambda _: (200, plan),
        }
    )


@pytest.mark.parametrize("source", ["push", "web"])
def test_the_default_branch_applies_the_reviewed_plan_and_pushes_the_lockfile_over_newer_work(
    tmp_path: Path, origin: Path, api: FakeGitLab, source: str
) -> None:
    main = detached_checkout(origin, tmp_path / "main")
    sha = git(main, "rev-parse", "HEAD").strip()
    if source == "push":  # merged from a merge request whose plan was saved
        plan = merge_request_plan(tmp_path, origin, api)
        reviewed_in_merge_request_7(api, sha, plan.read_bytes())
    push_change(origin, tmp_path / "colleague", "NOTES.md", "Meanwhile.\n")
    runner = gitlab_runner(
        tmp_path,
        "main-runner",
        api.url,
        origin,
        CI_PIPELINE_SOURCE=source,
        CI_COMMIT_BRANCH="main",
        CI_COMMIT_SHA=sha,
    )
    done = runner.run(gitlab_job(main / PIPELINE, "voxform-apply"), main)
    assert done.returncode == 0, done.stdout + done.stderr
    if source == "push":
        assert "voxform: applying the plan reviewed in !7" in done.stdout
    else:
        assert api.calls == []  # a pipeline run by hand plans for itself
    log = git(origin, "log", "--format=%s", "main").splitlines()
    assert log == ["voxform: record applied narration [skip ci]", "edit NOTES.md", "narration"]
    assert git(origin, "show", "--name-only", "--format=", "main").split() == ["voxform.lock"]


def test_the_default_branch_refuses_a_push_that_merged_no_merge_request(
    tmp_path: Path, origin: Path, api: FakeGitLab
) -> None:
    push_change(origin, tmp_path / "colleague", "texts/01-introduction.md", "Pushed directly.\n")
    main = detached_checkout(origin, tmp_path / "main")
    sha = git(main, "rev-parse", "HEAD").strip()
    api.routes[("GET", f"/projects/1/repository/commits/{sha}/merge_requests")] = lambda _: (
        200,
        [],
    )
    runner = gitlab_runner(
        tmp_path,
        "main-runner",
        api.url,
        origin,
        CI_PIPELINE_SOURCE="push",
        CI_COMMIT_BRANCH="main",
        CI_COMMIT_SHA=sha,
    )
    done = runner.run(gitlab_job(main / PIPELINE, "voxform-apply"), main)
    assert done.returncode == 1
    assert "this commit merged no merge request" in done.stdout
    assert "voxform plan: 2 to create" in done.stdout
    assert "voxform: not applied" in done.stdout
    assert len(git(origin, "log", "--format=%s", "main").splitlines()) == 2
