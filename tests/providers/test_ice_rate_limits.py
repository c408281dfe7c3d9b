"""An ICE target's rate limits are bounded where apply can honour them: 0.5 to 10,000 calls
per second, finite. A limit of 1e-300 or NaN is an error at validate, not a silent 0.5."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import Runner, write_files
from providers.conftest import ICE_MANIFEST
from voxform.apply.pacing import FLOOR
from voxform.manifest.schema import manifest_schema

ROOT = Path(__file__).resolve().parents[2]


def project(tmp_path: Path, limits: str) -> Path:
    manifest = ICE_MANIFEST.replace("prefix: course/", f"prefix: course/, {limits}")
    return write_files(tmp_path / "project", {"voxform.yaml": manifest})


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("rate_limit: 1.0e-300", "1e-300 is less than the minimum of 0.5"),
        ("rate_limit: 0.4", "0.4 is less than the minimum of 0.5"),
        ("rate_limit: 0", "0 is less than the minimum of 0.5"),
        ("rate_limits: {GetSmartHandleJob: 1.0e-300}", "is less than the minimum of 0.5"),
        ("rate_limits: {ListSmartJobs: 20000}", "20000 is greater than the maximum of 10000"),
        ("rate_limit: .inf", "expected a number, got non-finite number Infinity"),
        ("rate_limit: .nan", "expected a number, got non-finite number NaN"),
        ("rate_limits: {SubmitAudioProduceJob: -.inf}", "got non-finite number -Infinity"),
    ],
)
def test_a_rate_limit_out_of_bounds_is_a_validation_error(
    tmp_path: Path, voxform: Runner, limits: str, message: str
) -> None:
    result = voxform(project(tmp_path, limits), "validate")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    found = re.search(rf"voxform\.yaml:4:\d+: error: .*{re.escape(message)}", result.output)
    assert found, result.output


@pytest.mark.parametrize("limits", ["rate_limit: 0.5", "rate_limits: {ListSmartJobs: 10000}"])
def test_rate_limits_at_the_bounds_are_valid(tmp_path: Path, voxform: Runner, limits: str) -> None:
    result = voxform(project(tmp_path, limits), "validate")
    assert result.exit_code == 0, result.output


def test_every_rate_the_schema_accepts_is_one_apply_honours() -> None:
    """Apply's pacing never goes below FLOOR calls per second: a lower limit would be
    accepted and silently not honoured."""
    target = manifest_schema()["$defs"]["target"]["properties"]  # type: ignore[index]
    bounds = [target["rate_limit"], *target["rate_limits"]["properties"].values()]
    assert {(b.get("minimum"), b.get("maximum")) for b in bounds} == {(FLOOR, 10000)}
    published = json.loads((ROOT / "schema/voxform.schema.json").read_text())
    assert published == manifest_schema()
