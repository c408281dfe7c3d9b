"""`voxform init [DIR]`: a project that validates and applies on the local engine as it is,
with a CI pipeline that plans pull requests and applies what was reviewed."""

from __future__ import annotations

import json
import os
import re
from importlib import metadata, resources
from pathlib import Path

import click

from voxform.cli.common import reporting
from voxform.errors import VoxformError
from voxform.files import check_writable, create_new
from voxform.report import Reporter
from voxform.report.base import printable

# Package file -> project file.
SCAFFOLD = {
    "voxform.yaml": "voxform.yaml",
    "templates/plain.ssml.j2": "templates/plain.ssml.j2",
    "texts/01-introduction.md": "texts/01-introduction.md",
    "gitignore": ".gitignore",
}

# --ci choice -> (file under pipelines/, project file).
PIPELINES = {
    "github": ("github-actions/narration.yml", ".github/workflows/narration.yml"),
    "gitlab": ("gitlab-ci/.gitlab-ci.yml", ".gitlab-ci.yml"),
}

# The pipelines name the voxform they install in one line each: `VOXFORM_INSTALL: "..."`.
INSTALL_LINE = re.compile(r'^(?P<key>[ \t]*VOXFORM_INSTALL:[ \t]*)"[^"\n]*"', re.MULTILINE)


def install_requirement(direct_url: str | None) -> str | None:
    """The requirement that installs this voxform again, read from its PEP 610
    `direct_url.json`: `voxform @ git+URL@COMMIT` for an install from a remote repository,
    else None."""
    try:
        info = json.loads(direct_url or "null")
    except json.JSONDecodeError:
        return None
    vcs = info.get("vcs_info") if isinstance(info, dict) else None
    if not isinstance(vcs, dict):
        return None
    url, kind, commit = info.get("url"), vcs.get("vcs"), vcs.get("commit_id")
    if not (isinstance(url, str) and isinstance(kind, str) and isinstance(commit, str)):
        return None
    # A clone on this machine (file:) is no source for CI.
    if not (url and kind and commit) or url.startswith("file:"):
        return None
    requirement = f"voxform @ {kind}+{url}@{commit}"
    subdirectory = info.get("subdirectory")
    if isinstance(subdirectory, str) and subdirectory:
        requirement += f"#subdirectory={subdirectory}"
    return requirement


def with_install(pipeline: str, requirement: str) -> str:
    """The pipeline's text with its VOXFORM_INSTALL set to `requirement`."""
    # A JSON string is a valid YAML double-quoted scalar.
    quoted = json.dumps(requirement)
    return INSTALL_LINE.sub(lambda match: match["key"] + quoted, pipeline, count=1)


def own_install() -> str | None:
    """How this voxform was installed, as a requirement CI can install, if it came from VCS."""
    try:
        direct_url = metadata.distribution("voxform").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    return install_requirement(direct_url)


def pipeline_text(name: str) -> str:
    """A pipeline from pipelines/: shipped in the package by a wheel; an editable install
    (`pip install -e .`) serves src/voxform, so there it is read from the checkout."""
    packaged = resources.files("voxform") / "pipelines" / name
    if packaged.is_file():
        return packaged.read_text("utf-8")
    return (Path(__file__).resolve().parents[3] / "pipelines" / name).read_text("utf-8")


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--ci",
    type=click.Choice(["github", "gitlab", "none"]),
    default="github",
    show_default=True,
    help="CI pipeline to add: GitHub Actions workflow, .gitlab-ci.yml, or none.",
)
@click.pass_context
@reporting
def init(ctx: click.Context, reporter: Reporter, directory: Path | None, ci: str) -> None:
    """Create a voxform project in DIRECTORY (default: -C, or here).

    Refuses a directory that already has any of the files it would write.
    """
    root = directory if directory is not None else Path(ctx.obj["directory"])
    pipeline = PIPELINES.get(ci)
    names = [*SCAFFOLD.values(), *([pipeline[1]] if pipeline else [])]
    # lexists: a dangling symlink is there too, and would be written through
    existing = [name for name in names if os.path.lexists(root / name)]
    if existing:
        only_ci = pipeline is not None and existing == [pipeline[1]]
        hint = " (--ci none leaves the pipeline out)" if only_ci else ""
        raise VoxformError(
            f"{root} already has {', '.join(existing)}: voxform init writes only new projects"
            + hint
        )
    scaffold = resources.files("voxform").joinpath("scaffold")
    files = {name: scaffold.joinpath(packaged).read_bytes() for packaged, name in SCAFFOLD.items()}
    if pipeline:
        text = pipeline_text(pipeline[0])
        requirement = own_install()
        files[pipeline[1]] = (with_install(text, requirement) if requirement else text).encode()
    root.mkdir(parents=True, exist_ok=True)
    for name in files:
        check_writable(root / name, root=root)  # a symlinked folder: refused before any write
    for name, content in files.items():
        try:  # never through a symlink, as a folder on the way or in place of the file
            create_new(root / name, content, root=root)
        except FileExistsError:
            raise VoxformError(f"{root / name} appeared while voxform init wrote") from None
    # info() keeps the message's own line breaks: the directory's name must not add any.
    shown = printable(root)
    where = "" if root == Path(".") else f" -C {shown}"
    ci_note = (
        f"\nCI: {pipeline[1]} validates and plans changes for review and applies them once"
        " merged; its header says which credentials to set."
        if pipeline
        else ""
    )
    reporter.info(
        f"Created a voxform project in {shown}: {', '.join(files)}.\n"
        f"Next: voxform{where} plan, then voxform{where} apply (offline, no account needed)."
        + ci_note
    )
