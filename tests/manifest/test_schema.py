"""The published schema is the one voxform checks with, and the examples satisfy it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from conftest import EXAMPLES, Runner

ROOT = Path(__file__).resolve().parents[2]


def test_schema_command_prints_the_published_schema(tmp_path: Path, voxform: Runner) -> None:
    result = voxform(tmp_path, "schema")
    assert result.exit_code == 0
    published = json.loads((ROOT / "schema/voxform.schema.json").read_text())
    assert json.loads(result.stdout) == published
    Draft202012Validator.check_schema(published)


@pytest.mark.parametrize("manifest", sorted(EXAMPLES.glob("*/voxform.yaml")), ids=str)
def test_examples_satisfy_the_schema(manifest: Path) -> None:
    schema = json.loads((ROOT / "schema/voxform.schema.json").read_text())
    errors = list(Draft202012Validator(schema).iter_errors(yaml.safe_load(manifest.read_text())))
    assert errors == []


def test_the_schema_states_the_service_limits_voxform_checks() -> None:
    """The schema is a data file; it must agree with the one home of ICE's limits."""
    from voxform.ice.limits import RATE, SAMPLE_RATES, VOLUME
    from voxform.ice.wire import FORMATS

    defs = json.loads((ROOT / "schema/voxform.schema.json").read_text())["$defs"]
    assert (defs["rate"]["minimum"], defs["rate"]["maximum"]) == RATE
    volume = defs["voice"]["properties"]["volume"]
    assert (volume["minimum"], volume["maximum"]) == VOLUME
    assert tuple(defs["sample_rate"]["enum"]) == SAMPLE_RATES
    assert tuple(defs["format"]["enum"]) == FORMATS
