"""`voxform emulator -v`: one whole line per request, however many arrive at once."""

from __future__ import annotations

import http.client
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

from emulator.calls import first_lines

THREADS = 24
CALLS = 60
LINE = re.compile(r"POST Action-\d+-\d+-x{40} 400 InvalidVersion")


def _send_calls(url: str, thread: int, errors: list[BaseException]) -> None:
    address = urlsplit(url)
    assert address.hostname is not None
    try:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        for number in range(CALLS):
            # An unknown version is refused first: every call is one logged refusal.
            action = f"Action-{thread}-{number}-{'x' * 40}"
            connection.request("POST", "/", headers={"x-acs-action": action})
            connection.getresponse().read()
        connection.close()
    except BaseException as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def test_verbose_lines_stay_whole_under_concurrent_requests(tmp_path: Path) -> None:
    log = tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "voxform", "emulator", "--port", "0", "-v"]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "--synthesis", "silence"], stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        url = first_lines(process, 1, timeout=20)[0].removeprefix("listening on ")
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_send_calls, args=(url, n, errors)) for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = log.read_text().splitlines()
    broken = [line for line in lines if not LINE.fullmatch(line)]
    assert not broken, broken[:5]
    assert len(lines) == THREADS * CALLS


def test_a_folded_action_header_cannot_add_a_line_to_the_log(tmp_path: Path) -> None:
    log = tmp_path / "stderr.txt"
    command = [sys.executable, "-m", "voxform", "emulator", "--port", "0", "-v"]
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        url = urlsplit(first_lines(process, 1, timeout=20)[0].removeprefix("listening on "))
        assert url.hostname is not None and url.port is not None
        with socket.create_connection((url.hostname, url.port), timeout=20) as sock:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: e\r\nX-Acs-Action: Fake\r\n"
                b" GET Forged 200\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            while sock.recv(65536):
                pass
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = log.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("POST Fake"), lines
