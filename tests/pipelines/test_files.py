"""The pipeline files: valid against the public schemas that check-jsonschema ships (offline,
its vendored copies) and, the GitHub workflow, by actionlint (with ShellCheck on its scripts);
shaped so that the tests run every step that calls voxform or git; least privilege per job."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.ci import GITHUB, GITLAB, load

SCHEMAS = {GITHUB: "vendor.github-workflows", GITLAB: "vendor.gitlab-ci"}

# A change that each file's schema rejects.
BREAKAGES = {
    GITHUB: ("cancel-in-progress: false", "cancel-in-progress: maybe"),
    GITLAB: ("when: always  # also for a failed plan", "when: sometimes  # also for a failed plan"),
}

# The steps that run voxform or git, all of them run by test_github_actions.py.
GITHUB_TESTED = {
    ("review", "review"),
    ("plan", "validate"),
    ("plan", "plan"),
    ("apply", "plan now"),
    ("apply", "apply"),
    ("apply", "commit voxform.lock and subtitles"),
}
CALLS_VOXFORM_OR_GIT = re.compile(
    r"^\s*(voxform|git|mapfile)\b|\bvoxform (validate|plan|apply|review)", re.M
)


def check_jsonschema(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def tool(name: str) -> str:
    """A test extra's command: beside this Python first (the venv's bin), then on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is missing: pip install -e '.[test]'"
    return found


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("actionlint"), "-no-color", f"-shellcheck={tool('shellcheck')}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_actionlint_passes_the_github_workflow() -> None:
    checked = actionlint(GITHUB)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("good", "bad", "finding"),
    [
        # An output that upload-artifact does not have: the comment would link to nothing.
        (
            "url: ${{ steps.upload.outputs.artifact-url }}",
            "url: ${{ steps.upload.outputs.artifact-link }}",
            'property "artifact-link" is not defined',
        ),
        # A script that ShellCheck faults (an unquoted variable, split into words).
        (
            'voxform review --base "$BASE"',
            "voxform review --base $BASE",
            "SC2086",
        ),
    ],
)
def test_actionlint_catches_a_broken_review_job(
    tmp_path: Path, good: str, bad: str, finding: str
) -> None:
    text = GITHUB.read_text("utf-8")
    assert text.count(good) == 1
    broken = tmp_path / GITHUB.name
    broken.write_text(text.replace(good, bad), "utf-8")
    checked = actionlint(broken)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert finding in checked.stdout


@pytest.mark.parametrize("pipeline", list(SCHEMAS), ids=lambda p: p.name)
def test_the_pipeline_is_valid_against_its_public_schema(pipeline: Path) -> None:
    checked = check_jsonschema(pipeline, SCHEMAS[pipeline])
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("pipeline", list(SCHEMAS), ids=lambda p: p.name)
def test_the_schema_check_catches_a_broken_pipeline(tmp_path: Path, pipeline: Path) -> None:
    good, bad = BREAKAGES[pipeline]
    text = pipeline.read_text("utf-8")
    assert good in text
    broken = tmp_path / pipeline.name
    broken.write_text(text.replace(good, bad), "utf-8")
    checked = check_jsonschema(broken, SCHEMAS[pipeline])
    assert checked.returncode == 1, checked.stdout + checked.stderr


def test_every_github_step_that_runs_voxform_or_git_is_tested() -> None:
    jobs = load(GITHUB)["jobs"]
    running = {
        (job, step["name"])
        for job, spec in jobs.items()
        for step in spec["steps"]
        if CALLS_VOXFORM_OR_GIT.search(step.get("run", ""))
    }
    assert running == GITHUB_TESTED


def test_github_jobs_get_only_the_permissions_they_use() -> None:
    workflow = load(GITHUB)
    assert workflow["permissions"] == {}
    review, plan = workflow["jobs"]["review"], workflow["jobs"]["plan"]
    apply = workflow["jobs"]["apply"]
    assert review["permissions"] == {"contents": "read"}  # no secrets either
    assert "secrets." not in str(review)
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    # The plan's comment links to the review page; a failed review does not stop the plan.
    assert plan["needs"] == "review"
    assert plan["if"].startswith("${{ !cancelled() &&")
    assert apply["permissions"] == {
        "contents": "write",
        "actions": "read",
        "pull-requests": "read",
        "id-token": "write",
    }
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert "install voxform" in {step.get("name") for step in plan["steps"]}


def test_gitlab_applies_one_at_a_time_and_plans_only_merge_requests() -> None:
    pipeline = load(GITLAB)
    assert pipeline["voxform-apply"]["resource_group"]
    for job in ("voxform-validate", "voxform-plan", "voxform-review", "voxform-plan-note"):
        (rule,) = pipeline[job]["rules"]
        assert rule["if"].startswith('$CI_PIPELINE_SOURCE == "merge_request_event"')


def test_the_inline_python_of_the_gitlab_pipeline_compiles() -> None:
    """Some of it talks to services no test reaches (STS): at least it parses."""
    pipeline = load(GITLAB)
    scripts = [
        entry
        for job in pipeline.values()
        if isinstance(job, dict)
        for entry in job.get("script", [])
    ]
    programs = [
        match[1]
        for script in scripts
        for match in re.finditer(r'<<"PY"\n(.*?)\nPY\n', script, re.S)
    ]
    assert len(programs) == 3
    for program in programs:
        compile(program, "<.gitlab-ci.yml>", "exec")
