"""The caches the pipelines keep between runs: exactly the ones voxform writes that are known by
what they hold (not by a file's stat), and, restored into a fresh checkout at the same place as
a CI runner restores them, a plan renders nothing and plans the same bytes as without them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import copy_example
from pipelines.ci import GITHUB, GITLAB, load
from voxform.manifest.schema_seen import SCHEMA_SEEN
from voxform.state.block_cache import BLOCK_CACHE
from voxform.state.journal import JOURNAL_DIR
from voxform.state.lockfile import LOCKFILE
from voxform.state.render_cache import DELTA, RENDER_CACHE
from voxform.state.source_cache import SOURCE_CACHE
from voxform.state.template_includes import INCLUDES

KEPT = [
    RENDER_CACHE,
    RENDER_CACHE + DELTA,
    SOURCE_CACHE,
    BLOCK_CACHE,
    INCLUDES,
    SCHEMA_SEEN,
    LOCKFILE + ".index",  # the lockfile's index (state/lockindex.py), by the lockfile's bytes
]
PLAN_AT_EXIT = """\
import atexit, sys
atexit.register(lambda: sys.stderr.write("JINJA2 %s\\n" % ("jinja2" in sys.modules)))
sys.argv[0] = "voxform"
from voxform.cli.main import main
main()
"""


def test_both_pipelines_keep_the_caches_known_by_what_they_hold() -> None:
    expected = [f"{JOURNAL_DIR}/{name}" for name in KEPT]
    github = load(GITHUB)["env"]["VOXFORM_CACHES"].split()
    gitlab = load(GITLAB)[".voxform-caches"]["cache"]["paths"]
    assert github == expected
    assert gitlab == expected


def plan(root: Path) -> tuple[str, bool]:
    """`voxform plan --json` in a fresh process: its output, and whether it loaded jinja2."""
    done = subprocess.run(
        [sys.executable, "-c", PLAN_AT_EXIT, "-C", str(root), "plan", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, "JINJA2 True" in done.stderr


def test_caches_restored_into_a_fresh_checkout_spare_every_render(tmp_path: Path) -> None:
    root = copy_example("quickstart", tmp_path / "runner" / "project")
    applied = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(root), "apply", "--yes"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert applied.returncode == 0, applied.stderr
    lockfile = (root / LOCKFILE).read_bytes()  # committed back by the apply job
    stash = tmp_path / "cache"
    stash.mkdir()
    for name in KEPT:
        if (root / JOURNAL_DIR / name).exists():
            shutil.copy(root / JOURNAL_DIR / name, stash / name)
    assert {p.name for p in stash.iterdir()} >= {RENDER_CACHE, INCLUDES, LOCKFILE + ".index"}

    # The next job: a fresh checkout in the same place (new files: new times and inodes).
    shutil.rmtree(root)
    copy_example("quickstart", root)
    (root / LOCKFILE).write_bytes(lockfile)
    cold, parsed = plan(root)
    assert parsed  # the check sees what it looks for: without the caches, templates render
    shutil.rmtree(root / JOURNAL_DIR)
    (root / JOURNAL_DIR).mkdir()
    for kept in stash.iterdir():
        shutil.copy(kept, root / JOURNAL_DIR / kept.name)

    warm, parsed = plan(root)
    assert not parsed
    assert warm == cold
