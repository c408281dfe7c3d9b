"""Every name voxform writes, planted as a symlink to a file (or folder) outside the project:
apply, refresh and plan leave what the link names byte-identical. A repository can carry
such links, so a checkout must not be able to aim voxform's writes anywhere.

Commands run in this process, so that the names that carry a pid (the lockfile's probe of
older versions, temporary files) can be planted with the pid of the apply itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Runner
from voxform.state.lease import LEASE

OUTSIDE = b"outside the project: voxform must not write this\n"
EMPTY_LOCKFILE = b'{\n  "items": {},\n  "lockfile_version": 1\n}\n'


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry below `folder`: a file's bytes, a link's target, a folder's name."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_dir():
            found[name] = "/"
        else:
            found[name] = path.read_bytes()
    return found


def edit_welcome(root: Path) -> None:
    """Change one item's text, so that apply has something to write."""
    manifest = root / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("Welcome to the course.", "Welcome!"))


def no_traceback(result: Result) -> Result:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# (planted name, what the link's outside file holds, what apply says, if it refuses)
FILES = [
    (".voxform/voxform.lock.journal", b"", "voxform.lock.journal is a symlink"),
    (".voxform.lock.probe-{pid}", OUTSIDE, None),  # the probe older versions wrote
    (str(LEASE), OUTSIDE, "apply.lease is a symlink"),
    (".voxform/stat-cache.json", OUTSIDE, None),
    (".voxform/render-cache", OUTSIDE, None),
    (".voxform/source-cache", OUTSIDE, None),
    (".voxform/block-cache", OUTSIDE, None),
    (".voxform/render-cache-delta", OUTSIDE, None),
    (".voxform/schema-seen.json", OUTSIDE, None),
    ("voxform.lock", EMPTY_LOCKFILE, "voxform.lock is a symlink"),
    ("build/audio/welcome.vtt", OUTSIDE, None),
    ("build/audio/welcome.srt", OUTSIDE, None),
    ("build/audio/welcome.mp3", OUTSIDE, None),
    ("saved.plan", OUTSIDE, None),
]


@pytest.mark.parametrize(("name", "content", "refused"), FILES, ids=[f[0] for f in FILES])
def test_a_planted_link_to_an_outside_file_is_never_written_through(
    applied_quickstart: Path,
    voxform: Runner,
    tmp_path: Path,
    name: str,
    content: bytes,
    refused: str | None,
) -> None:
    victim = tmp_path / "outside" / "victim"
    victim.parent.mkdir()
    victim.write_bytes(content)
    planted = applied_quickstart / name.format(pid=os.getpid())
    planted.unlink(missing_ok=True)
    planted.symlink_to(victim)
    edit_welcome(applied_quickstart)

    applied = no_traceback(voxform(applied_quickstart, "apply", "--yes"))
    no_traceback(voxform(applied_quickstart, "refresh"))
    no_traceback(
        voxform(applied_quickstart, "plan", "--out", str(applied_quickstart / "saved.plan"))
    )
    no_traceback(voxform(applied_quickstart, "plan"))

    assert victim.read_bytes() == content
    assert planted.is_symlink()
    if refused is not None:
        assert applied.exit_code == 1
        assert refused in applied.output, applied.output
        said = applied.output
        assert "nothing was submitted" in said or "no apply can start" in said, said


def test_temporary_names_of_this_very_apply_planted_as_links_are_not_written_through(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    """The temporary names voxform used to write (`.NAME.PID.SERIAL.tmp`) could be planted
    for a guessed pid; today's carry a random token. Neither is written through."""
    victim = tmp_path / "victim"
    victim.write_bytes(OUTSIDE)
    audio = quickstart / "build/audio"
    audio.mkdir(parents=True)
    for folder, base in ((quickstart, "voxform.lock"), (audio, "welcome.mp3")):
        for serial in range(2000):
            (folder / f".{base}.{os.getpid()}.{serial}.tmp").symlink_to(victim)

    no_traceback(voxform(quickstart, "apply", "--yes"))

    assert victim.read_bytes() == OUTSIDE


@pytest.mark.parametrize("name", [".voxform", "build", "build/audio"])
def test_a_planted_link_to_an_outside_folder_is_never_written_into(
    quickstart: Path, voxform: Runner, tmp_path: Path, name: str
) -> None:
    outside = tmp_path / "outside"
    (outside / "chapters").mkdir(parents=True)
    leaves = ("voxform.lock.journal", "apply.lease", "stat-cache.json", "welcome.mp3")
    caches = ("render-cache", "source-cache", "block-cache", "template-includes")
    for leaf in (*leaves, *caches, "schema-seen.json"):
        (outside / leaf).write_bytes(b"")
    before = snapshot(outside)
    planted = quickstart / name
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(outside, target_is_directory=True)

    applied = no_traceback(voxform(quickstart, "apply", "--yes"))
    no_traceback(voxform(quickstart, "refresh"))
    no_traceback(voxform(quickstart, "plan"))

    assert snapshot(outside) == before
    assert applied.exit_code == 1 and f"{name}" in applied.output, applied.output


# -- the sweep of temporary files -----------------------------------------------------------------


def test_the_sweep_leaves_user_files_that_merely_look_like_temporary_files(
    quickstart: Path, voxform: Runner
) -> None:
    dead = dead_pid()
    audio = quickstart / "build/audio"
    audio.mkdir(parents=True)
    mine = [
        quickstart / ".notes.txt.99999.1.tmp",
        audio / ".mine.wav.88888.3.tmp",
        quickstart / f".notes.txt.{dead}.1.tmp",  # a pid that surely runs no more
        audio / f".mine.wav.{dead}.3.tmp",
        quickstart / f".voxform.lock.{dead}.0.tmp",
    ]
    for path in mine:
        path.write_bytes(b"the user's")

    assert voxform(quickstart, "apply", "--yes").exit_code == 0

    assert [p.read_bytes() for p in mine] == [b"the user's"] * len(mine)


def test_what_a_writer_killed_before_its_rename_left_is_swept_by_the_next_apply(
    quickstart: Path, voxform: Runner
) -> None:
    """A real kill -9 at the worst moment: the temporary file written, not yet renamed."""
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys; from pathlib import Path; from voxform import files; "
            "os.replace = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL); "
            "files.write_atomic(Path(sys.argv[1]), b'half', root=Path(sys.argv[2]))",
            str(quickstart / "build/audio/welcome.mp3"),
            str(quickstart),
        ],
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    left = [p.name for p in (quickstart / "build/audio").iterdir()]
    assert len(left) == 1 and left[0].startswith(".welcome.mp3."), left

    assert voxform(quickstart, "apply", "--yes").exit_code == 0

    assert not (quickstart / "build/audio" / left[0]).exists()
    assert (quickstart / "build/audio/welcome.mp3").is_file()


# -- something other than a lease at the lease's name ---------------------------------------------


def plant_at_lease(root: Path, kind: str, victim: Path) -> Path:
    path = root / LEASE
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "dangling symlink":
        path.symlink_to(root / "nowhere")
    elif kind == "symlink":
        victim.write_bytes(OUTSIDE)
        path.symlink_to(victim)
    else:
        os.mkfifo(path)
    return path


@pytest.mark.parametrize(
    ("kind", "found"),
    [
        ("dangling symlink", "a symlink"),
        ("symlink", "a symlink"),
        ("fifo", "a special file"),
    ],
)
def test_what_is_not_a_lease_file_is_named_by_apply_and_cleared_by_unlock(
    quickstart: Path, voxform: Runner, tmp_path: Path, kind: str, found: str
) -> None:
    victim = tmp_path / "victim"
    path = plant_at_lease(quickstart, kind, victim)

    refused = no_traceback(voxform(quickstart, "apply", "--yes"))
    assert refused.exit_code == 1
    assert f".voxform/apply.lease is {found}, not a lease voxform wrote" in refused.output
    assert "voxform unlock unreadable" in refused.output
    assert os.path.lexists(path)

    unlocked = no_traceback(voxform(quickstart, "unlock", "unreadable"))
    assert unlocked.exit_code == 0, unlocked.output
    assert f"Removed {found}" in unlocked.output
    assert not os.path.lexists(path)
    if kind == "symlink":
        assert victim.read_bytes() == OUTSIDE  # the link went, not what it named

    assert voxform(quickstart, "apply", "--yes").exit_code == 0


# -- init into a folder that carries links ------------------------------------------------------


def test_init_refuses_a_dangling_link_where_it_would_write_a_file(
    tmp_path: Path, voxform: Runner
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo/voxform.yaml").symlink_to(outside / "planted")

    refused = no_traceback(voxform(tmp_path, "init", str(tmp_path / "demo"), "--ci", "none"))

    assert refused.exit_code == 1 and "already has voxform.yaml" in refused.output
    assert snapshot(outside) == {}


def test_init_writes_nothing_when_a_folder_it_writes_in_is_a_link(
    tmp_path: Path, voxform: Runner
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo/templates").symlink_to(outside, target_is_directory=True)

    refused = no_traceback(voxform(tmp_path, "init", str(tmp_path / "demo"), "--ci", "none"))

    assert refused.exit_code == 1 and "templates is a symlink" in refused.output
    assert snapshot(outside) == {}
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == ["templates"]
