"""SSML: an error only for what ICE is known to reject; outside our tables, a warning."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner, write_files

MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    templates: {t: t.j2}
    defaults: {template: t}
    items: [{id: a, text: Bob}]
"""


def validate(root: Path, voxform: Runner, template: str, *args: str) -> tuple[int, dict]:
    write_files(root, {"voxform.yaml": MANIFEST, "t.j2": template})
    result = voxform(root, "validate", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_a_say_as_value_from_alibabas_own_example_is_a_warning(
    tmp_path: Path, voxform: Runner
) -> None:
    code, document = validate(
        tmp_path, voxform, '<speak><say-as interpret-as="nick">{{ text }}</say-as></speak>'
    )
    assert code == 0 and document["valid"] is True and document["errors"] == []
    [warning] = document["warnings"]
    assert (warning["file"], warning["line"]) == ("t.j2", 1)
    assert (
        "interpret-as='nick'> is not in ICE's say-as table (address, cardinal"
        in (warning["message"])
    )
    planned = voxform(tmp_path, "plan")
    assert planned.exit_code == 0
    assert "warning: t.j2:1:" in planned.output  # plan tells it too, and goes on


def test_what_ice_documents_as_unsupported_stays_an_error(tmp_path: Path, voxform: Runner) -> None:
    code, document = validate(tmp_path, voxform, "<speak><p>{{ text }}</p></speak>")
    assert code == 1 and document["valid"] is False
    [error] = document["errors"]
    assert error["message"].startswith("ICE does not support <p>")


def test_warnings_are_annotated_as_warnings_on_github(
    tmp_path: Path, voxform: Runner, monkeypatch
) -> None:
    write_files(
        tmp_path, {"voxform.yaml": MANIFEST, "t.j2": "<speak><blink>{{ text }}</blink></speak>"}
    )
    result = voxform(tmp_path, "validate", "--format", "github")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("::warning file=t.j2,line=1,") for line in lines), lines
    assert not any(line.startswith("::error") for line in lines)
