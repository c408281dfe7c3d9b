"""`pull` and `url` reach a bucket where plan and apply reach it: a target's `oss_endpoint:`,
or the emulator at the ICE endpoint, with no VOXFORM_OSS_ENDPOINT."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conftest import Runner
from e2e.conftest import Emulator

KEY = "my-audio/course/intro/welcome.mp3"


@pytest.mark.parametrize("named_by", ["ice-endpoint", "oss_endpoint"])
def test_pull_and_url_use_the_bucket_endpoint_plan_and_apply_use(
    named_by: str,
    emulator: Emulator,
    ice_project: Path,
    voxform: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, storage = emulator("--synthesis", "silence", "--latency", "0")
    monkeypatch.delenv("VOXFORM_OSS_ENDPOINT", raising=False)
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    if named_by == "oss_endpoint":
        manifest = ice_project / "voxform.yaml"
        manifest.write_text(
            manifest.read_text().replace(
                "    rate_limit: 20\n", f"    rate_limit: 20\n    oss_endpoint: {url}\n"
            )
        )
    applied = voxform(ice_project, "apply", "--yes")
    assert applied.exit_code == 0, applied.output
    if named_by == "oss_endpoint":  # the ICE endpoint is the region's again: only the
        monkeypatch.delenv("VOXFORM_ICE_ENDPOINT")  # target's setting leads to the bucket

    pulled = voxform(ice_project, "pull")
    assert pulled.exit_code == 0, pulled.output
    audio = (storage / KEY).read_bytes()
    assert (ice_project / "build/oss/welcome.mp3").read_bytes() == audio

    shared = voxform(ice_project, "url", "welcome")
    assert shared.exit_code == 0, shared.output
    link = shared.stdout.strip()
    assert link.startswith(f"{url}/my-audio/course/intro/welcome.mp3?")
    assert httpx.get(link, timeout=10).content == audio
