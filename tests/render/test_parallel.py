"""Many items are rendered in forked workers; what comes back is what a serial render gives,
in order, the run-wide step budget of the sandbox included."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Runner
from voxform.manifest.loader import load_manifests
from voxform.render import parallel
from voxform.render.items import render_items
from voxform.render.render import ItemResult, render_item
from voxform.render.sources import expand
from voxform.render.templates import make_environment

MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}, e: {voice: zhitian_emo}}
    defaults: {voice: n, template: t}
    templates: {t: templates/t.ssml.j2, bad: templates/bad.ssml.j2}
    lexicon: [{match: SQL, alias: sequel}]
    items:
      - {id: broken, text: "Hello.", template: bad}
    sources:
      - {id: s, glob: "texts/*.md", split: paragraph}
      - {id: e, glob: "texts/*.txt", split: sentence, voice: e}
"""
TEMPLATE = (
    "<speak>{% if 'seven' in text %}<emotion category='happy'>{{ text }}</emotion>"
    "{% else %}{{ text }}{% endif %}{{ pause(300) }}</speak>\n"
)


def _project(project, template: str = TEMPLATE, paragraphs: int = 60) -> Path:
    words = ["one", "two", "SQL", "seven & <eight>", "nine  ten", "[x]", "ok"]
    book = "\n\n".join(
        f"Paragraph {n} of {words[n % len(words)]}. And more {words[(n * 3) % len(words)]}."
        for n in range(paragraphs)
    )
    return project(
        {
            "voxform.yaml": MANIFEST,
            "templates/t.ssml.j2": template,
            "templates/bad.ssml.j2": "<speak>{{ nothing.here }}</speak>",
            "texts/book.md": book,
            "texts/more.txt": "First one. Second seven. Third!",
        }
    )


def _items(root: Path):
    project, problems = load_manifests(root)
    assert not problems
    items, problems = expand(project, {})
    assert not problems
    return project, items


def test_workers_render_what_a_serial_render_gives_in_order(project) -> None:
    loaded, items = _items(_project(project))
    env = make_environment(loaded.root)
    serial = [render_item(loaded, env, item, {}) for item in items]
    forked = parallel.render_forked(
        loaded, items, {}, render_item, lambda: make_environment(loaded.root), workers=3
    )
    assert forked == serial
    assert any(result.problems for result in serial)  # errors and warnings travel too
    assert len({r.rendered[0].request.input for r in serial if r.rendered}) > 40


def test_the_run_wide_step_budget_renders_serially_when_it_could_tell(project) -> None:
    heavy = (
        "<speak>{{ text }}"
        "{% for i in range(3000) %}{% for j in range(100) %}{% endfor %}{% endfor %}</speak>"
    )
    loaded, items = _items(_project(project, heavy, paragraphs=10))
    forked = parallel.render_forked(
        loaded, items, {}, render_item, lambda: make_environment(loaded.root), workers=2
    )
    assert forked is None  # 12 items of 300,000 steps: more than the budget leaves


def test_a_plan_of_many_items_is_the_same_in_workers_and_serially(
    project, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(project, paragraphs=parallel.MIN_ITEMS + 10)
    calls: list[int] = []
    original = parallel.render_forked

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(args[1]))
        return original(*args, **kwargs)

    monkeypatch.setattr("voxform.render.render.render_forked", counted)
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))  # other tests run now
    forked = voxform(root, "plan", "--json")
    monkeypatch.setattr("voxform.render.render.workers_for", lambda count: 1)
    serial = voxform(root, "plan", "--json")
    assert calls and forked.output == serial.output
    errors = json.loads(serial.output)["errors"]
    assert {e["file"] for e in errors} == {"templates/bad.ssml.j2", "voxform.yaml"}, errors[:3]


def test_cores_are_free_once_the_commands_before_have_ended() -> None:
    assert parallel.busy(1.6, 1) == 0  # a bench's last command still in the load average
    assert parallel.busy(0.3, 4) == 0  # a moment's processes, gone a minute ago
    assert parallel.busy(5.0, 7) == 4
    assert parallel.busy(3.0, None) == 2  # no /proc: the load average alone
    assert parallel.busy(None, 9) == 0


class _Memo:
    def __init__(self) -> None:
        self.kept: dict[str, ItemResult] = {}

    def get_many(self, items):  # type: ignore[no-untyped-def]
        return [self.kept.get(item.id) for item in items]

    def put(self, item, result):  # type: ignore[no-untyped-def]
        self.kept[item.id] = result
        return result


def test_a_memo_answers_some_items_and_the_rest_are_rendered_in_order(project) -> None:
    loaded, items = _items(_project(project))
    memo = _Memo()
    first = render_items(loaded, items[::2], memo=memo)
    assert len(memo.kept) == len(items[::2])
    assert render_items(loaded, items, memo=memo) == render_items(loaded, items)
    assert len(memo.kept) == len(items) and first[0]


def test_ctrl_c_while_workers_render_is_one_line_and_exit_130(project) -> None:
    root = _project(project, paragraphs=4 * parallel.MIN_ITEMS)
    child = subprocess.Popen(
        [sys.executable, "-c", _IDLE_MACHINE, "-C", str(root), "plan"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a terminal's Ctrl-C reaches the whole process group
    )
    deadline = time.monotonic() + 120
    while not _children(child.pid) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _children(child.pid), "the plan forked no worker to interrupt"
    os.killpg(child.pid, signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert (child.returncode, err.decode().splitlines()) == (130, ["Interrupted."])
    assert b"Traceback" not in out + err


# voxform's entry point on a machine that looks idle, so that it forks workers.
_IDLE_MACHINE = (
    "import os; os.getloadavg = lambda: (0.0, 0.0, 0.0)\nfrom voxform.cli.main import main; main()"
)


def _children(pid: int) -> list[str]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[str] = []
    for task in tasks.iterdir() if tasks.exists() else []:
        with contextlib.suppress(OSError):
            found += (task / "children").read_text().split()
    return found
