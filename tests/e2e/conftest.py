"""Fixtures of the journeys: `voxform emulator` as a user starts it, and the ICE example."""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import Runner, copy_example

Emulator = Callable[..., tuple[str, Path]]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """Start `voxform emulator` on 127.0.0.1, port 0; stop it at the end of the test."""
    processes: list[subprocess.Popen[str]] = []

    def start(*options: str) -> tuple[str, Path]:
        storage = tmp_path / f"oss{len(processes)}"
        command = [sys.executable, "-c", "from voxform.cli.main import main; main()"]
        process = subprocess.Popen(
            [*command, "emulator", "--port", "0", "--storage", str(storage), *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(process)
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "emulator did not start within 30 s"
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        return line.removeprefix("listening on "), storage

    yield start
    for process in processes:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def ice_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/ice-emulator with the emulator's default key pair in the environment."""
    root = tmp_path / "ice"
    copy_example("ice-emulator", root)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret")
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    monkeypatch.delenv("ALIBABA_CLOUD_PROFILE", raising=False)
    return root


@pytest.fixture
def applied(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The ICE example applied against a fresh emulator, which the environment points at;
    the emulator's URL."""
    url, _ = emulator("--latency", "0.05")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    result = voxform(ice_project, "apply", "--yes")
    assert result.exit_code == 0, result.output
    return url
