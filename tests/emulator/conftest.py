"""The ICE emulator as a fixture: a real server on 127.0.0.1, stopped at the end of the test.

Use `emulator` (options from the `emulator_options` fixture, which a test module can
override or `pytest.mark.parametrize`), or `start_emulator(**options)` for several.
Options are EmulatorConfig's fields plus the FaultRates fields, flat:
`start_emulator(latency=0, fail_jobs=1.0, seed=3)`, or for speed without the engine
`start_emulator(synthesis="silence", rate_limits={"SubmitAudioProduceJob": 2})`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from voxform.emulator.faults import FaultRates
from voxform.emulator.service import Emulator, EmulatorConfig

StartEmulator = Callable[..., Emulator]
_FAULTS = {f.name for f in dataclasses.fields(FaultRates)}


@pytest.fixture
def emulator_options() -> dict[str, object]:
    """Options of the `emulator` fixture; override to configure it."""
    return {}


@pytest.fixture
def start_emulator(tmp_path: Path) -> Iterator[StartEmulator]:
    """Start emulators with the given options; every one is closed after the test."""
    started: list[Emulator] = []

    def start(**options: object) -> Emulator:
        storage = options.pop("storage", tmp_path / f"oss-{len(started)}")
        faults = FaultRates(**{k: options.pop(k) for k in list(options) if k in _FAULTS})  # type: ignore[arg-type]
        config = EmulatorConfig(storage=storage, faults=faults, **options)  # type: ignore[arg-type]
        emulator = Emulator(config).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in reversed(started):
        emulator.close()


@pytest.fixture
def emulator(start_emulator: StartEmulator, emulator_options: dict[str, object]) -> Emulator:
    """A running emulator (`.url`, `.storage`, `.stats()`), configured by emulator_options."""
    return start_emulator(**{"latency": 0.05, **emulator_options})
