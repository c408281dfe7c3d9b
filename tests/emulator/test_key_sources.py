"""`voxform emulator` takes its key pairs from argv, a file or the environment.

A secret on the command line is visible to every user in `ps`; a file or the environment is
not. Pairs from every source are accepted together; a bad pair is refused naming where it
was, never quoting the secret.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from emulator.calls import first_lines
from voxform.ice.signing import sign_request

COMMAND = [sys.executable, "-m", "voxform", "emulator", "--port", "0", "--synthesis", "silence"]


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]


@contextmanager
def serve(options: Sequence[str], env: dict[str, str] | None = None) -> Iterator[Served]:
    environ = {k: v for k, v in os.environ.items() if k != "VOXFORM_EMULATOR_KEYS"}
    process = subprocess.Popen(
        [*COMMAND, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**environ, **(env or {})},
    )
    try:
        url = first_lines(process, 1, timeout=20)[0].removeprefix("listening on ")
        yield Served(url, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def accepts(served: Served, key_id: str, secret: str) -> bool:
    """Whether a ListSmartJobs call signed with this pair is answered 200."""
    signed = sign_request(
        method="GET",
        host=served.url.removeprefix("http://"),
        action="ListSmartJobs",
        version="2020-11-09",
        params={"JobType": "TextToSpeech"},
        body=b"",
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=None,
    )
    answer = httpx.get(served.url + signed.path, headers=signed.headers, timeout=20)
    return answer.status_code == 200


def test_keys_from_the_environment_are_accepted_and_not_in_argv() -> None:
    env = {"VOXFORM_EMULATOR_KEYS": "alpha:alpha-secret-1, beta:beta-secret-2"}
    with serve([], env) as served:
        assert accepts(served, "alpha", "alpha-secret-1")
        assert accepts(served, "beta", "beta-secret-2")
        assert not accepts(served, "testid", "testsecret")  # the default only without keys
        assert not accepts(served, "alpha", "beta-secret-2")
        argv = Path(f"/proc/{served.process.pid}/cmdline").read_bytes()
        assert b"secret" not in argv


def test_keys_from_a_file_are_accepted_with_comments_and_blank_lines(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# emulator keys\n\nfile-id:file-secret\n  second:other-secret  \n")
    with serve(["--key-file", str(keys), "--key", "argv-id:argv-secret"]) as served:
        assert accepts(served, "file-id", "file-secret")
        assert accepts(served, "second", "other-secret")
        assert accepts(served, "argv-id", "argv-secret")  # every source together
        assert not accepts(served, "testid", "testsecret")


@pytest.mark.parametrize(
    ("options", "env", "named"),
    [
        (["--key-file", "{keys}"], {}, "{keys}:2"),
        (
            [],
            {"VOXFORM_EMULATOR_KEYS": "good:pair,no-colon-hidden-secret"},
            "VOXFORM_EMULATOR_KEYS",
        ),
        (["--key-file", "{missing}"], {}, "{missing}"),
        (["--key", "id:hidden-secret", "--key-file", "{keys2}"], {}, "given twice"),
    ],
    ids=["file-line", "environment", "missing-file", "two-secrets"],
)
def test_a_bad_key_source_is_one_error_naming_it_and_not_the_secret(
    tmp_path: Path, options: list[str], env: dict[str, str], named: str
) -> None:
    (tmp_path / "keys").write_text("ok:fine-secret\nno-colon-hidden-secret\n")
    (tmp_path / "keys2").write_text("id:another-hidden-secret\n")
    paths = {"keys": tmp_path / "keys", "keys2": tmp_path / "keys2", "missing": tmp_path / "no"}
    argv = [option.format(**paths) for option in options]
    environ = {k: v for k, v in os.environ.items() if k != "VOXFORM_EMULATOR_KEYS"}
    result = subprocess.run(
        [*COMMAND, *argv],
        capture_output=True,
        text=True,
        env={**environ, **env},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert named.format(**paths) in result.stderr
    assert "hidden-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_help_says_where_keys_come_from() -> None:
    result = subprocess.run([*COMMAND, "--help"], capture_output=True, text=True, timeout=60)
    assert "--key-file" in result.stdout and "VOXFORM_EMULATOR_KEYS" in result.stdout
