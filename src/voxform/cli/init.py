"""`voxform init [DIR]`: a project that validates and applies on the local engine as it is."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from voxform.cli.common import reporting
from voxform.errors import VoxformError
from voxform.report import Reporter

# Package file -> project file.
SCAFFOLD = {
    "voxform.yaml": "voxform.yaml",
    "templates/plain.ssml.j2": "templates/plain.ssml.j2",
    "texts/01-introduction.md": "texts/01-introduction.md",
    "gitignore": ".gitignore",
}


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
@reporting
def init(ctx: click.Context, reporter: Reporter, directory: Path | None) -> None:
    """Create a voxform project in DIRECTORY (default: -C, or here).

    Refuses a directory that already has any of the files it would write.
    """
    root = directory if directory is not None else Path(ctx.obj["directory"])
    existing = [name for name in SCAFFOLD.values() if (root / name).exists()]
    if existing:
        raise VoxformError(
            f"{root} already has {', '.join(existing)}: voxform init writes only new projects"
        )
    source = resources.files("voxform").joinpath("scaffold")
    for packaged, name in SCAFFOLD.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.joinpath(packaged).read_bytes())
    where = "" if root == Path(".") else f" -C {root}"
    reporter.info(
        f"Created a voxform project in {root}: {', '.join(SCAFFOLD.values())}.\n"
        f"Next: voxform{where} plan, then voxform{where} apply (offline, no account needed)."
    )
