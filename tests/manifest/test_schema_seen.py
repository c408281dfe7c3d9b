"""A manifest the schema found valid is not checked by it again while it is the same
document under the same schema; anything else is checked, and `validate` always checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voxform.manifest import schema_seen
from voxform.manifest.loader import load_manifests
from voxform.manifest.schema_seen import SCHEMA_SEEN, SchemaSeen, schema_identity

MODULES_AT_EXIT = """\
import atexit, sys
atexit.register(lambda: sys.stderr.write("JSONSCHEMA " + str("jsonschema" in sys.modules) + "\\n"))
sys.argv[0] = "voxform"
from voxform.cli.main import main
main()
"""


def seen_at(root: Path) -> Path:
    return root / ".voxform" / SCHEMA_SEEN


def errors(root: Path, seen: SchemaSeen | None) -> list[str]:
    _, problems = load_manifests(root, seen=seen)
    return [p.message for p in problems if p.severity == "error"]


def remember(root: Path) -> SchemaSeen:
    return SchemaSeen(seen_at(root), root)


def test_a_valid_manifest_is_noted_and_known_until_it_changes(quickstart: Path) -> None:
    assert errors(quickstart, remember(quickstart)) == []
    written = json.loads(seen_at(quickstart).read_text())
    assert written["identity"] == schema_identity() and len(written["valid"]) == 1
    manifest = quickstart / "voxform.yaml"
    assert remember(quickstart).known(_data(manifest))
    # The same bytes but a value of another type is another document, checked again.
    manifest.write_text(manifest.read_text().replace("volume: 50", "volume: '50'"))
    assert not remember(quickstart).known(_data(manifest))
    assert errors(quickstart, remember(quickstart)) != []
    # It is told each time: a document with problems is never noted.
    assert errors(quickstart, remember(quickstart)) != []
    assert len(json.loads(seen_at(quickstart).read_text())["valid"]) == 1


def test_a_damaged_or_foreign_file_is_no_evidence(quickstart: Path) -> None:
    errors(quickstart, remember(quickstart))
    good = seen_at(quickstart).read_text()
    manifest = quickstart / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("volume: 50", "volume: 500"))
    key = _key_of(manifest)
    for planted in (
        json.dumps({"identity": "0" * 64, "valid": [key]}),  # another schema or voxform
        json.dumps({"identity": schema_identity(), "valid": [key.upper()]}),
        json.dumps({"identity": schema_identity(), "valid": key}),
        good[: len(good) // 2],  # truncated
        "",
    ):
        seen_at(quickstart).write_text(planted)
        assert errors(quickstart, remember(quickstart)) != [], planted


def test_plan_of_a_manifest_seen_valid_loads_no_validator_and_validate_still_checks(
    quickstart: Path,
) -> None:
    assert _jsonschema_loaded(quickstart, "plan") is True  # first seen: checked
    assert seen_at(quickstart).is_file()
    assert _jsonschema_loaded(quickstart, "plan") is False
    assert _jsonschema_loaded(quickstart, "validate") is True
    # A file that claims an invalid manifest valid does not fool validate.
    manifest = quickstart / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("volume: 50", "volume: 500"))
    seen_at(quickstart).write_text(
        json.dumps({"identity": schema_identity(), "valid": [_key_of(manifest)]})
    )
    done = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(quickstart), "validate"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "maximum of 100" in done.stdout


def _jsonschema_loaded(root: Path, command: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", MODULES_AT_EXIT, "-C", str(root), command, "--no-refresh"]
        if command == "plan"
        else [sys.executable, "-c", MODULES_AT_EXIT, "-C", str(root), command],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    told = [line for line in done.stderr.splitlines() if line.startswith("JSONSCHEMA ")]
    assert len(told) == 1, done.stderr
    return told[0] == "JSONSCHEMA True"


def _data(manifest: Path) -> object:
    from voxform.manifest.checks import Findings
    from voxform.manifest.includes import read_manifests

    return read_manifests(Findings(manifest.parent.resolve()))[0].data


def _key_of(manifest: Path) -> str:
    import hashlib

    data = _data(manifest)
    return hashlib.sha256(repr(data).encode("utf-8", "surrogatepass")).hexdigest()


def test_without_the_schema_to_name_what_checks_nothing_is_known(
    quickstart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A voxform whose schema files cannot be read (a packaging without them) trusts no
    # remembered document, whatever a file claims, and writes none.
    errors(quickstart, remember(quickstart))
    data = _data(quickstart / "voxform.yaml")
    monkeypatch.setattr(schema_seen, "_HERE", tmp_path / "nothing")
    seen_at(quickstart).write_text(
        json.dumps({"identity": "", "valid": [_key_of(quickstart / "voxform.yaml")]})
    )
    memo = remember(quickstart)
    assert not memo.known(data)
    memo.note(data)
    memo.save()
    assert json.loads(seen_at(quickstart).read_text())["identity"] == ""  # not rewritten
