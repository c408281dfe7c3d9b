"""A job's audio stored in the OSS stand-in: jobs for the same new object at once."""

from __future__ import annotations

import threading
from pathlib import Path

from voxform.emulator.jobs import store_audio

WRITERS = 8
ROUNDS = 40


def test_jobs_writing_one_new_object_in_a_new_folder_at_once_all_store_it(tmp_path: Path) -> None:
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        for round_ in range(ROUNDS):
            barrier.wait(timeout=30)
            try:
                store_audio(tmp_path / f"r{round_}" / "intro" / "hello.mp3", bytes([n]) * 64)
            except BaseException as exc:  # collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    for round_ in range(ROUNDS):
        data = (tmp_path / f"r{round_}" / "intro" / "hello.mp3").read_bytes()
        assert len(data) == 64 and len(set(data)) == 1  # one writer's bytes, whole
