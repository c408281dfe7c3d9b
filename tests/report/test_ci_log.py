"""Strings from manifests reach CI logs escaped: no forged workflow commands, no escapes."""

from __future__ import annotations

import pytest

from conftest import Runner, write_files

HOSTILE = """
version: 1
targets: {local: {provider: local, path: out}}
voices:
  "n\\n::add-mask::forged-voice": {voice: siqi}
  "m": {voice: "siqi\\n::warning::forged-voice-id\\u001b[31m"}
templates:
  "t\\n::add-mask::forged-template": "missing\\n::error::forged-path.j2"
defaults: {voice: "x\\r\\n::add-mask::forged-default"}
items:
  - {id: a, text: "Hello", template: "t\\n::add-mask::forged-template"}
  - {id: "b\\n::add-mask::forged-id", text: Hi}
"""
OURS = ("::error file=", "::warning file=", "::notice title=voxform::", "::error title=voxform::")


@pytest.mark.parametrize("fmt", ["text", "github", "markdown", "json"])
@pytest.mark.parametrize("command", ["validate", "plan"])
def test_no_manifest_string_starts_a_line_of_its_own(
    tmp_path, voxform: Runner, monkeypatch, fmt: str, command: str
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    root = write_files(tmp_path, {"voxform.yaml": HOSTILE})
    result = voxform(root, command, "--format", fmt)
    assert result.exit_code == 1
    assert "forged" in result.output  # the strings are shown, escaped
    for line in result.output.splitlines():
        assert "\x1b" not in line
        if line.lstrip().startswith("::"):
            assert line.startswith(OURS), line
