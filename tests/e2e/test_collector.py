"""A command that loads a project pauses the cyclic collector while it loads and keeps what
it loaded out of the collector's reach until the command is over: afterwards the collector
is as it was, and nothing is left frozen (a process running many commands frees cycles)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from conftest import Runner
from voxform import project as loading


@pytest.mark.parametrize("enabled", [True, False])
def test_a_plan_leaves_the_collector_as_it_found_it(
    quickstart: Path, voxform: Runner, enabled: bool
) -> None:
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        frozen = gc.get_freeze_count()
        result = voxform(quickstart, "plan", "--json")
        assert result.exit_code == 0, result.output
        assert gc.isenabled() is enabled
        assert gc.get_freeze_count() == frozen
    finally:
        if was:
            gc.enable()


def test_the_collector_is_paused_while_a_project_loads(
    quickstart: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    load = loading.load_project

    def watched(
        directory: Path, lockfile: Path | None = None, **options: bool
    ) -> loading.LoadedProject:
        seen.append(gc.isenabled())
        return load(directory, lockfile, **options)

    monkeypatch.setattr(loading, "load_project", watched)
    result = voxform(quickstart, "plan", "--json")
    assert result.exit_code == 0, result.output
    assert seen == [False]
