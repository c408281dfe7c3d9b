"""`voxform schema`: the manifest JSON Schema, for editors and check-jsonschema."""

from __future__ import annotations

import json

import click

from voxform.manifest.schema import manifest_schema


@click.command()
def schema() -> None:
    """Print the manifest JSON Schema (draft 2020-12)."""
    click.echo(json.dumps(manifest_schema(), indent=2, ensure_ascii=False))
