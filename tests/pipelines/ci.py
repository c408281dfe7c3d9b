"""The pipelines' steps run as their runners run them: bash -eo pipefail in the project, with the
runner's variables. Steps that talk to GitHub are not run here; GitLab's API is faked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from voxform.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
GITHUB = REPO / "pipelines" / "github-actions" / "narration.yml"
GITLAB = REPO / "pipelines" / "gitlab-ci" / ".gitlab-ci.yml"


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return loaded


# What the expressions in the tested steps' `env:` stand for in these runs.
GITHUB_CONTEXT = {"github.ref_name": "main"}
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def evaluate(value: str, context: dict[str, str] | None = None) -> str:
    """A step's `env:` value with its `${{ a || b }}` expressions resolved from GITHUB_CONTEXT
    and `context`: secrets and other steps' outputs are unset here (no cloud credentials: the
    local engine needs none)."""
    known = {**GITHUB_CONTEXT, **(context or {})}

    def one(match: re.Match[str]) -> str:
        for alternative in match[1].split("||"):
            name = alternative.strip()
            if name.startswith(("secrets.", "steps.")):
                continue
            if known.get(name):
                return known[name]
            assert name in known, f"no value for ${{{{ {name} }}}} in the tests"
        return ""

    return EXPRESSION.sub(one, value).strip()


@dataclass(frozen=True)
class Step:
    """A `run:` step: its script and its environment."""

    script: str
    env: dict[str, str]


def github_step(workflow: Path, job: str, name: str, context: dict[str, str] | None = None) -> Step:
    """The step called `name` in `job`; `context` gives its expressions' values
    (`github.event.pull_request.base.sha`) beside GITHUB_CONTEXT's."""
    steps = load(workflow)["jobs"][job]["steps"]
    (step,) = [step for step in steps if step.get("name") == name]
    env = {key: evaluate(str(value), context) for key, value in step.get("env", {}).items()}
    return Step(str(step["run"]), env)


def gitlab_job(pipeline: Path, job: str) -> str:
    """The `script:` of `job`, its entries run one after the other in one shell, as GitLab
    Runner does (`before_script`, which installs voxform, is left out)."""
    return "\n".join(load(pipeline)[job]["script"])


def git(cwd: Path, *args: str) -> str:
    """Run git as a person would (with a name), returning its output."""
    done = subprocess.run(
        ["git", "-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def init_project(root: Path, *options: str) -> Path:
    """`voxform init` a project at root."""
    result = CliRunner().invoke(cli, ["init", str(root), *options])
    assert result.exit_code == 0, result.output
    return root


def recorded_project(root: Path, *options: str) -> Path:
    """An init-ed project applied on the local engine into `audio/`, a folder that is not
    git-ignored: its audio is committed with the lockfile, so that a checkout holds what the
    lockfile records (as an ICE target's bucket does), and a review shows only what changed."""
    init_project(root, *options)
    manifest = root / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("path: build/audio", "path: audio"))
    result = CliRunner().invoke(cli, ["-C", str(root), "apply", "--yes"])
    assert result.exit_code == 0, result.output
    return root


def seed_origin(tmp_path: Path, project: Path) -> Path:
    """A bare repository whose main holds `project` in one commit."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "narration")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(project, "push", "-q", str(origin), "HEAD:refs/heads/main")
    return origin


def checkout(origin: Path, where: Path) -> Path:
    """A shallow clone of main, as CI checks out a commit."""
    git(where.parent, "clone", "-q", "--depth", "1", f"file://{origin}", str(where))
    return where


def propose_change(origin: Path, where: Path, name: str, old: str, new: str) -> str:
    """Someone pushes the branch `change`, replacing `old` with `new` in `name`; returns the
    commit of main it starts from (the pull request's base)."""
    checkout(origin, where)
    path = where / name
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")
    git(where, "commit", "-q", "-am", f"edit {name}")
    git(where, "push", "-q", "origin", "HEAD:refs/heads/change")
    return git(where, "rev-parse", "HEAD~1").strip()


def checkout_change(origin: Path, where: Path, depth: int | None = None) -> Path:
    """The branch `change` checked out detached, as CI checks out a request's commit: with
    all history (depth None) or shallow."""
    shallow = [] if depth is None else ["--depth", str(depth)]
    git(where.parent, "clone", "-q", *shallow, "-b", "change", f"file://{origin}", str(where))
    git(where, "checkout", "-q", "--detach")
    return where


def push_change(origin: Path, where: Path, name: str, text: str) -> None:
    """Someone else commits `name` to main meanwhile."""
    checkout(origin, where)
    (where / name).write_text(text, "utf-8")
    git(where, "add", name)
    git(where, "commit", "-q", "-m", f"edit {name}")
    git(where, "push", "-q", "origin", "HEAD:refs/heads/main")


@dataclass
class Runner:
    """One CI job's environment: a temporary directory and the variables the runner sets."""

    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, script: str | Step, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
        if isinstance(script, Step):
            extra = {**script.env, **extra}
            script = script.script
        environment = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            **self.env,
            **extra,
        }
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )


def github_runner(tmp_path: Path, name: str) -> Runner:
    """A GitHub Actions job: RUNNER_TEMP, GITHUB_STEP_SUMMARY and annotations on."""
    home = tmp_path / name
    (home / "temp").mkdir(parents=True)
    return Runner(
        home,
        {
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(home / "temp"),
            "GITHUB_STEP_SUMMARY": str(home / "summary.md"),
            "GITHUB_REPOSITORY": "owner/narration",
            "GITHUB_SHA": "0" * 40,
        },
    )


Route = Callable[[bytes], tuple[int, Any]]


@dataclass
class FakeGitLab:
    """GitLab's REST API as far as the pipeline uses it, on 127.0.0.1."""

    url: str
    routes: dict[tuple[str, str], Route]
    calls: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def fake_gitlab(routes: dict[tuple[str, str], Route]) -> Iterator[FakeGitLab]:
    """Serve `routes` ((method, path with query) -> handler) under /api/v4."""
    calls: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path = self.path.removeprefix("/api/v4")
            calls.append((self.command, path))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            route = routes.get((self.command, path))
            status, payload = route(body) if route else (404, {"message": "404 Not found"})
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield FakeGitLab(f"http://127.0.0.1:{server.server_port}/api/v4", routes, calls)
    finally:
        server.shutdown()
        server.server_close()


def gitlab_runner(tmp_path: Path, name: str, api: str, origin: Path, **variables: str) -> Runner:
    """A GitLab job on main whose server is `api` and whose repository is `origin`."""
    home = tmp_path / name
    home.mkdir(parents=True)
    host_port = api.removeprefix("http://").split("/")[0]
    host, port = host_port.split(":")
    push_url = f"http://voxform:push-token@{host_port}/group/narration.git"
    return Runner(
        home,
        {
            "GITLAB_CI": "true",
            "CI_API_V4_URL": api,
            "CI_PROJECT_ID": "1",
            "CI_PROJECT_PATH": "group/narration",
            "CI_SERVER_PROTOCOL": "http",
            "CI_SERVER_HOST": host,
            "CI_SERVER_PORT": port,
            "CI_DEFAULT_BRANCH": "main",
            "CI_JOB_ID": "99",
            "VOXFORM_PUSH_TOKEN": "push-token",
            # The push URL the pipeline builds leads to the test's bare repository.
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{origin}.insteadOf",
            "GIT_CONFIG_VALUE_0": push_url,
            **variables,
        },
    )
