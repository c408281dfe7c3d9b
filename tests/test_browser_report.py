"""The Chromium the browser tests use, as tests/browser.py finds it and the run reports it."""

from __future__ import annotations

from pathlib import Path

import pytest

import browser


def fake_chromium(folder: Path, name: str = "chromium") -> Path:
    """An executable that answers --version as Debian's Chromium does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\necho 'Chromium 156.0.1.2 built on Debian GNU/Linux 12'\n")
    path.chmod(0o755)
    return path


def test_voxform_chromium_names_the_browser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = fake_chromium(tmp_path / "elsewhere", "my-chromium")
    monkeypatch.setenv("VOXFORM_CHROMIUM", str(named))
    assert browser.find_chromium() == str(named)
    assert browser.chromium_version(str(named)) == "Chromium 156.0.1.2 built on Debian GNU/Linux 12"


def test_a_voxform_chromium_that_is_no_executable_skips_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "chromium"
    named.write_text("not a program")
    monkeypatch.setenv("VOXFORM_CHROMIUM", str(named))
    assert browser.find_chromium() is None
    if browser.skip_reason() != browser.PLAYWRIGHT_MISSING:
        assert browser.report() == (
            f"browser tests: SKIPPED, VOXFORM_CHROMIUM={named} is not an executable file"
        )


def test_without_a_chromium_on_path_the_tests_skip_saying_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOXFORM_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert browser.find_chromium() is None
    assert browser.report().startswith("browser tests: SKIPPED, ")
    if browser.skip_reason() != browser.PLAYWRIGHT_MISSING:
        assert "no Chromium on PATH (apt-get install chromium" in browser.report()


def test_chromium_on_path_is_found_and_reported_with_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VOXFORM_CHROMIUM", raising=False)
    found = fake_chromium(tmp_path / "bin", "chromium-browser")
    monkeypatch.setenv("PATH", str(found.parent))
    assert browser.find_chromium() == str(found)
    if browser.skip_reason() != browser.PLAYWRIGHT_MISSING:
        assert browser.report() == (
            f"browser tests: Chromium 156.0.1.2 built on Debian GNU/Linux 12 at {found}"
        )
