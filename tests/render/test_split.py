"""Over-long source chunks split into parts: cut by content, so an edit costs its own part
and at most one neighbour, and in time linear in the text however hostile it is."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner
from voxform.project import load_project

LIMIT = 400
MANIFEST = f"""
    version: 1
    targets: {{local: {{provider: local, path: out, max_input_chars: {LIMIT}}}}}
    voices: {{n: {{voice: siqi}}}}
    defaults: {{voice: n, format: wav, target: local}}
    sources: [{{id: book, glob: "texts/*.md", split: paragraph}}]
"""
SUBJECTS = ["The river", "A fox", "Our teacher", "The old mill", "Every morning the baker"]
VERBS = ["crossed the valley", "sang a quiet song", "counted the stars", "opened the gate"]


def sentence(n: int) -> str:
    return f"{SUBJECTS[n % 5]} {VERBS[n % 4]} for the {n}th time, and nobody minded."


PARAGRAPH = " ".join(sentence(n) for n in range(40))  # about 2,200 characters


def parts(root: Path) -> dict[str, str]:
    """Item id -> text, as plan and apply would see them."""
    loaded = load_project(root)
    assert loaded.problems == []
    return {r.id: r.item.text for r in loaded.rendered}


def test_an_over_long_paragraph_is_cut_into_parts_that_fit_and_lose_nothing(
    project: Callable[[dict[str, str]], Path],
) -> None:
    root = project({"voxform.yaml": MANIFEST, "texts/story.md": f"# Story\n\n{PARAGRAPH}\n"})
    loaded = load_project(root)
    assert loaded.problems == []
    split = [r for r in loaded.rendered if r.id.startswith("book/story/p2-")]
    assert len(split) >= 6
    assert [r.id for r in split] == [f"book/story/p2-{n}" for n in range(1, len(split) + 1)]
    assert all(len(r.request.input) <= LIMIT for r in split)
    assert " ".join(r.item.text for r in split) == PARAGRAPH


@pytest.fixture
def applied(project: Callable[[dict[str, str]], Path], voxform: Runner) -> Path:
    root = project({"voxform.yaml": MANIFEST, "texts/story.md": f"{PARAGRAPH}\n"})
    result = voxform(root, "apply", "--yes", "--json")
    assert result.exit_code == 0, result.output
    return root


def planned(voxform: Runner, root: Path, text: str) -> list[dict[str, object]]:
    (root / "texts/story.md").write_text(text + "\n")
    result = voxform(root, "plan", "--json")
    assert result.exit_code == 0, result.output
    changes: list[dict[str, object]] = json.loads(result.stdout)["changes"]
    return changes


def synthesized(changes: list[dict[str, object]]) -> list[dict[str, object]]:
    return [c for c in changes if c["action"] in ("create", "update")]


def test_a_sentence_added_to_a_long_split_paragraph_updates_at_most_two_chunks(
    applied: Path, voxform: Runner
) -> None:
    before = parts(applied)
    assert len(before) >= 6
    for where in range(41):  # before the first sentence, between any two, after the last
        sentences = [sentence(n) for n in range(40)]
        sentences.insert(where, "Then, without warning, it began to snow over the whole town.")

        changes = planned(voxform, applied, " ".join(sentences))

        assert 1 <= len(synthesized(changes)) <= 2, (where, changes)
        after = parts(applied)
        kept = [i for i in before if after.get(i) == before[i]]
        assert len(kept) >= len(before) - 2, where  # the others keep their id and text


def test_a_reworded_sentence_updates_only_its_own_part(applied: Path, voxform: Runner) -> None:
    for where in range(40):
        sentences = [sentence(n) for n in range(40)]
        sentences[where] = sentences[where].replace("nobody minded", "everybody cheered")
        changes = planned(voxform, applied, " ".join(sentences))
        assert [c["action"] for c in changes] == ["update"], (where, changes)


def test_a_removed_sentence_costs_at_most_two_parts_worth(applied: Path, voxform: Runner) -> None:
    # Removing the sentence a cut was placed at moves that cut: the parts around it are
    # cut anew, which can take a short third part, but never more than two parts' worth.
    for where in range(40):
        sentences = [sentence(n) for n in range(40)]
        del sentences[where]
        changes = synthesized(planned(voxform, applied, " ".join(sentences)))
        assert sum(int(str(c["characters"])) for c in changes) <= 2 * LIMIT, (where, changes)


def test_an_unchanged_split_paragraph_plans_nothing(applied: Path, voxform: Runner) -> None:
    assert planned(voxform, applied, PARAGRAPH) == []


HOSTILE = {
    "brackets.md": "[" * 100_000,
    "initials.md": "A. " * 25_000,
    "repeated.md": "Hello there. " * 8_000,
    "distinct.md": " ".join(sentence(n) for n in range(1_800)),
    "chinese.txt": "你好!" * 25_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_is_validated_without_a_quadratic_hang(
    project: Callable[[dict[str, str]], Path], name: str
) -> None:
    manifest = MANIFEST.replace(f"max_input_chars: {LIMIT}", "max_input_chars: 2000")
    manifest = manifest.replace('"texts/*.md"', '"texts/*"')
    root = project({"voxform.yaml": manifest, f"texts/{name}": HOSTILE[name]})
    # The timeout is a safety net against a hang, not a measure: each takes a second or two
    # now, and took from half a minute to more than three before.
    run = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(root), "validate", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(run.stdout)
    if name in ("brackets.md", "initials.md"):  # one sentence, longer than the limit
        assert run.returncode == 1
        [error] = report["errors"]
        assert "no sentence boundary" in error["message"]
    else:
        assert run.returncode == 0, report
