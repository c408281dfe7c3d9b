"""What templates include, kept by the digest of their bytes: a plan whose renders are all
cached parses no template (and loads no jinja2), and what the memo tells is never more
than a parse would find; a damaged or foreign memo is ignored and written again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from state.loading import everything
from voxform.render.dependencies import TemplateFiles
from voxform.render.templates import make_environment
from voxform.state.cachefile import CacheTable, write_cache
from voxform.state.template_includes import INCLUDES, KIND, TemplateIncludes

MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    templates: {main: templates/main.j2}
    defaults: {voice: n, format: wav, target: local, template: main}
    sources: [{id: book, glob: "texts/*.md", split: paragraph}]
"""
FILES = {
    "voxform.yaml": MANIFEST,
    "templates/main.j2": '<speak>{% include "templates/intro.j2" %}{{ text }}</speak>\n',
    "templates/intro.j2": "Chapter. ",
    "texts/one.md": "A first paragraph.\n\nA second one.\n",
}
IMPORTED_AT_EXIT = """\
import atexit, sys
atexit.register(lambda: sys.stderr.write("JINJA2 %s\\n" % ("jinja2" in sys.modules)))
sys.argv[0] = "voxform"
from voxform.cli.main import main
main()
"""


def files_of(root: Path, memo: TemplateIncludes | None) -> TemplateFiles:
    return TemplateFiles(root, lambda: make_environment(root), memo)


def test_a_memo_tells_what_a_parse_found_and_is_read_back(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project(FILES)
    path = root / ".voxform" / INCLUDES
    path.parent.mkdir()
    parsed = files_of(root, memo := TemplateIncludes(path, root)).digest("templates/main.j2")
    memo.save()
    assert path.exists()

    told = TemplateIncludes(path, root)
    files = files_of(root, told)
    files.environment = lambda: pytest.fail("a template was parsed")  # type: ignore[assignment, misc]
    assert files.digest("templates/main.j2") == parsed
    assert not told.learnt  # nothing new: the file is not written again

    (root / "templates/intro.j2").write_text("Part. ")  # an included file's bytes count
    assert files_of(root, TemplateIncludes(path, root)).digest("templates/main.j2") != parsed


@pytest.mark.parametrize("damage", ["truncated", "edited", "foreign", "another kind"])
def test_a_damaged_or_foreign_memo_is_ignored_and_written_again(
    project: Callable[[dict[str, str]], Path], damage: str
) -> None:
    root = project(FILES)
    path = root / ".voxform" / INCLUDES
    fresh = everything(root, cached=False)
    good = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(good[: len(good) - 7])
    elif damage == "edited":  # the checked body says otherwise
        path.write_bytes(good.replace(b"templates/intro.j2", b"templates/other.j2"))
    else:  # a memo telling main.j2 includes nothing, for another voxform or another cache
        table = CacheTable()
        digest = files_of(root, None)._file("templates/main.j2")[0]
        table.record(bytes.fromhex(digest))
        table.number(0)
        kind, identity = (KIND, "1:another") if damage == "foreign" else ("render", "")
        write_cache(path, root, kind, identity or _identity_now(), table)
    assert TemplateIncludes(path, root).get(digest_of(root)) == "unknown"

    assert everything(root, cached=True) == fresh
    assert path.read_bytes() == good  # parsed again, and written as before


def test_a_memo_keeps_only_the_templates_in_use(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project(FILES)
    everything(root, cached=True)
    first = digest_of(root)
    (root / "templates/main.j2").write_text("<speak>{{ text }}</speak>\n")
    everything(root, cached=True)
    memo = TemplateIncludes(root / ".voxform" / INCLUDES, root)
    assert memo.get(first) == "unknown"
    assert memo.get(digest_of(root)) == []


def test_a_plan_whose_renders_are_cached_loads_no_template_engine(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project(FILES)

    def plan() -> bool:
        done = subprocess.run(
            [sys.executable, "-c", IMPORTED_AT_EXIT, "-C", str(root), "plan"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return "JINJA2 True" in done.stderr

    assert plan()  # the check sees what it looks for: the first plan renders
    assert not plan()
    (root / "templates/intro.j2").write_text("Part. ")  # what an include holds: rendered
    assert plan()
    assert not plan()


def digest_of(root: Path) -> str:
    return files_of(root, None)._file("templates/main.j2")[0]


def _identity_now() -> str:
    from voxform.state.template_includes import _identity

    return _identity()
