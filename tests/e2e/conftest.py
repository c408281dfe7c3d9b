"""Fixtures of the journeys: `voxform emulator` as a user starts it, the ICE example, and the
quickstart as an apply leaves it."""

from __future__ import annotations

import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import Runner, copy_example
from voxform.cli.main import cli

Emulator = Callable[..., tuple[str, Path]]


def start_emulator(storage: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    """`voxform emulator` on 127.0.0.1, port 0, over `storage`: the process and its URL."""
    command = [sys.executable, "-c", "from voxform.cli.main import main; main()"]
    process = subprocess.Popen(
        [*command, "emulator", "--port", "0", "--storage", str(storage), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=30), "emulator did not start within 30 s"
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
    except BaseException:
        stop_emulator(process)
        raise
    return process, line.removeprefix("listening on ")


def stop_emulator(process: subprocess.Popen[str]) -> None:
    """SIGINT, as a user stops it; killed if it does not end within 10 s."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """Start `voxform emulator` on 127.0.0.1, port 0; stop it at the end of the test."""
    processes: list[subprocess.Popen[str]] = []

    def start(*options: str) -> tuple[str, Path]:
        storage = tmp_path / f"oss{len(processes)}"
        process, url = start_emulator(storage, *options)
        processes.append(process)
        return url, storage

    yield start
    for process in processes:
        stop_emulator(process)


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


@pytest.fixture(scope="session")
def quickstart_applied_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/quickstart after one `apply --yes` (the local engine), made once a session."""
    root = copy_example("quickstart", tmp_path_factory.mktemp("applied") / "quickstart")
    result = CliRunner().invoke(cli, ["-C", str(root), "apply", "--yes"])
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def applied_quickstart(quickstart_applied_once: Path, tmp_path: Path) -> Path:
    """A private copy of the applied quickstart (audio, lockfile, state), where a test would
    otherwise start with `apply --yes` on the `quickstart` fixture. Its caches name the path
    they were made at, so the first command reads the sources again."""
    return shutil.copytree(quickstart_applied_once, tmp_path / "quickstart", symlinks=True)
