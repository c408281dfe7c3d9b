"""`voxform init`: a new project that validates and applies offline as it stands, with a CI
workflow."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Runner
from e2e.audio import mp3_duration


def test_init_makes_a_project_that_validates_and_applies(tmp_path: Path, voxform: Runner) -> None:
    created = voxform(tmp_path, "init", str(tmp_path / "demo"))
    assert created.exit_code == 0, created.output
    demo = tmp_path / "demo"
    assert sorted(p.relative_to(demo).as_posix() for p in demo.rglob("*") if p.is_file()) == [
        ".github/workflows/narration.yml",
        ".gitignore",
        "templates/plain.ssml.j2",
        "texts/01-introduction.md",
        "voxform.yaml",
    ]
    assert (demo / ".gitignore").read_text().splitlines()[1:] == [".voxform/", "build/"]
    assert voxform(demo, "validate").exit_code == 0
    applied = voxform(demo, "apply", "--yes")
    assert applied.exit_code == 0, applied.output
    lock = json.loads((demo / "voxform.lock").read_text())["items"]
    assert sorted(lock) == [
        "chapters/01-introduction/p1",
        "chapters/01-introduction/p2",
        "chapters/01-introduction/p3",
        "welcome",
    ]
    sample_rate, seconds = mp3_duration((demo / lock["welcome"]["url"]).read_bytes())
    assert sample_rate == 16000 and seconds > 2.0
    assert voxform(demo, "plan", "--detailed-exitcode").exit_code == 0


def test_init_refuses_to_overwrite_a_project(tmp_path: Path, voxform: Runner) -> None:
    (tmp_path / "voxform.yaml").write_text("version: 1\n")
    refused = voxform(tmp_path, "init")
    assert refused.exit_code == 1
    assert "already has voxform.yaml" in refused.output
    assert (tmp_path / "voxform.yaml").read_text() == "version: 1\n"
