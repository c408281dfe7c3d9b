"""Reading files voxform did not make: bounded by the file, never by the limit alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voxform.reading import FileTooLargeError, read_regular


def test_a_small_file_read_under_a_large_limit_takes_no_address_space_for_the_limit(
    tmp_path: Path,
) -> None:
    """A limit of 8 GB under a 2 GB address-space limit (ulimit -v, as some CI runners and
    containers set): the read asks for the file's few bytes, not the limit's gigabytes."""
    small = tmp_path / "small"
    small.write_bytes(b"abc")
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from voxform.reading import read_regular\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "sys.stdout.write(read_regular(Path(sys.argv[1]), 8 << 30).decode())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(small)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "abc"


def test_a_file_over_the_limit_is_refused_and_one_at_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "eleven"
    path.write_bytes(b"x" * 11)
    with pytest.raises(FileTooLargeError, match="more than 10 bytes"):
        read_regular(path, 10)
    assert read_regular(path, 11) == b"x" * 11
