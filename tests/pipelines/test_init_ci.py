"""`voxform init` adds a pipeline, naming the voxform it was installed from when that is a
repository CI can install from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import Runner
from pipelines.ci import GITHUB, GITLAB
from voxform.cli.init import install_requirement, with_install

DEFAULT = "voxform @ git+https://github.com/voxform/voxform@v0.1.0"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("direct_url", "requirement"),
    [
        (
            {
                "url": "https://example.org/voxform.git",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT},
            },
            f"voxform @ git+https://example.org/voxform.git@{COMMIT}",
        ),
        (
            {
                "url": "https://example.org/tools",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "v0.1.0"},
                "subdirectory": "voxform",
            },
            f"voxform @ git+https://example.org/tools@{COMMIT}#subdirectory=voxform",
        ),
        (
            {
                "url": "https://hg.example.org/voxform",
                "vcs_info": {"vcs": "hg", "commit_id": "abc"},
            },
            "voxform @ hg+https://hg.example.org/voxform@abc",
        ),
        ({"url": "file:///home/me/voxform", "dir_info": {"editable": True}}, None),
        ({"url": "file:///tmp/voxform", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, None),
        ({"url": "https://example.org/voxform-0.1.0.whl", "archive_info": {}}, None),
        ({"url": "https://example.org/voxform.git", "vcs_info": {"vcs": "git"}}, None),
        ("not json", None),
        (None, None),
    ],
)
def test_the_requirement_comes_from_a_vcs_install_only(
    direct_url: object, requirement: str | None
) -> None:
    text = (
        direct_url if direct_url is None or isinstance(direct_url, str) else json.dumps(direct_url)
    )
    assert install_requirement(text) == requirement


@pytest.mark.parametrize("pipeline", [GITHUB, GITLAB], ids=lambda p: p.name)
def test_with_install_changes_the_install_line_only(pipeline: Path) -> None:
    text = pipeline.read_text("utf-8")
    assert f'VOXFORM_INSTALL: "{DEFAULT}"' in text
    wanted = f'voxform @ git+https://example.org/a "quoted" path@{COMMIT}'
    changed = with_install(text, wanted)
    assert (
        yaml.safe_load(changed)["env" if pipeline == GITHUB else "variables"]["VOXFORM_INSTALL"]
        == wanted
    )
    assert [a for a, b in zip(text.splitlines(), changed.splitlines(), strict=True) if a != b] == [
        f'  VOXFORM_INSTALL: "{DEFAULT}"'
    ]


@pytest.mark.parametrize(
    ("ci", "written", "source"),
    [
        ("github", ".github/workflows/narration.yml", GITHUB),
        ("gitlab", ".gitlab-ci.yml", GITLAB),
        ("none", None, None),
    ],
)
def test_init_writes_the_chosen_pipeline(
    tmp_path: Path, voxform: Runner, ci: str, written: str | None, source: Path | None
) -> None:
    created = voxform(tmp_path, "init", "--ci", ci)
    assert created.exit_code == 0, created.output
    pipelines = {".github/workflows/narration.yml", ".gitlab-ci.yml"}
    present = {name for name in pipelines if (tmp_path / name).exists()}
    assert present == ({written} if written else set())
    if written and source:
        # An editable install is not a VCS one: the pipeline keeps its default install line.
        assert (tmp_path / written).read_text("utf-8") == source.read_text("utf-8")


def test_init_names_the_commit_voxform_was_installed_from(
    tmp_path: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A distribution installed from git, found first on sys.path, stands in for this one."""
    site = tmp_path / "site"
    dist_info = site / "voxform-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: voxform\nVersion: 0.1.0\n")
    (dist_info / "direct_url.json").write_text(
        json.dumps(
            {
                "url": "https://example.org/voxform.git",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT},
            }
        )
    )
    monkeypatch.syspath_prepend(str(site))
    created = voxform(tmp_path / "project", "init")
    assert created.exit_code == 0, created.output
    workflow = yaml.safe_load((tmp_path / "project/.github/workflows/narration.yml").read_text())
    assert (
        workflow["env"]["VOXFORM_INSTALL"]
        == f"voxform @ git+https://example.org/voxform.git@{COMMIT}"
    )


def test_init_leaves_an_existing_pipeline_alone(tmp_path: Path, voxform: Runner) -> None:
    (tmp_path / ".gitlab-ci.yml").write_text("stages: [test]\n")
    refused = voxform(tmp_path, "init", "--ci", "gitlab")
    assert refused.exit_code == 1
    assert "already has .gitlab-ci.yml" in refused.output
    assert "--ci none" in refused.output
    assert (tmp_path / ".gitlab-ci.yml").read_text() == "stages: [test]\n"
    assert not (tmp_path / "voxform.yaml").exists()


def test_the_wheel_ships_the_pipelines_where_init_looks_for_them() -> None:
    """pyproject's force-include puts pipelines/ at voxform/pipelines in the wheel."""
    import tomllib

    pyproject = tomllib.loads((GITHUB.parents[2] / "pyproject.toml").read_text("utf-8"))
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["force-include"] == {"pipelines": "voxform/pipelines"}
