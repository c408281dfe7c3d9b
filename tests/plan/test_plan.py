"""plan is a pure function of rendered items and the lockfile."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import Runner
from voxform.plan.plan import TargetFacts, make_plan
from voxform.project import load_project
from voxform.state.lockfile import LockEntry, LockState

ENGINES = {"local": TargetFacts("local", "engine-1", billed=False, durable=False)}


@pytest.fixture
def rendered(project):
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out}}
                voices: {n: {voice: siqi}}
                items: [{id: a, text: Hello there.}, {id: b, text: Good bye.}]
            """
        }
    )
    return load_project(root).rendered


def lock_of(plan_changes) -> LockState:
    return LockState(
        {
            c.id: LockEntry("finished", c.fingerprint, c.characters, dict(c.inputs))
            for c in plan_changes
        }
    )


def test_everything_is_new_without_a_lockfile(rendered) -> None:
    plan = make_plan(rendered, LockState(), ENGINES)
    assert [(c.id, c.action, c.reasons) for c in plan.changes] == [
        ("a", "create", ("new item",)),
        ("b", "create", ("new item",)),
    ]
    assert plan.summary()["characters"] == len("Hello there.") + len("Good bye.")


def test_recorded_items_are_unchanged(rendered) -> None:
    lock = lock_of(make_plan(rendered, LockState(), ENGINES).changes)
    plan = make_plan(rendered, lock, ENGINES)
    assert not plan.pending and plan.characters() == 0


def test_engine_upgrade_resynthesizes_local_items(rendered) -> None:
    lock = lock_of(make_plan(rendered, LockState(), ENGINES).changes)
    plan = make_plan(rendered, lock, {"local": ENGINES["local"]._replace(engine="engine-2")})
    assert {c.reasons for c in plan.changes} == {("engine changed",)}


@pytest.mark.parametrize(
    ("state", "action"), [("pending", "resume"), ("failed", "retry"), ("finished", "unchanged")]
)
def test_state_decides_between_resume_retry_and_unchanged(rendered, state, action) -> None:
    lock = lock_of(make_plan(rendered, LockState(), ENGINES).changes)
    lock.items["a"] = replace(lock.items["a"], state=state, job_id="j1", error_code="Boom")
    plan = make_plan(rendered, lock, ENGINES)
    assert plan.changes[0].action == action


def test_select_replace_and_orphans(rendered) -> None:
    lock = lock_of(make_plan(rendered, LockState(), ENGINES).changes)
    lock.items["gone"] = lock.items["a"]
    plan = make_plan(rendered, lock, ENGINES, select=["b*"], replace=["a"])
    assert [(c.id, c.action) for c in plan.changes] == [("a", "update"), ("b", "unchanged")]
    assert plan.changes[0].reasons == ("replacement requested",)
    assert plan.orphans == ()
    assert make_plan(rendered, lock, ENGINES).orphans == ("gone",)


def test_changing_a_template_plans_template_output_changed(
    project, voxform: Runner, tmp_path: Path
) -> None:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out}}
                voices: {n: {voice: siqi}}
                defaults: {template: t}
                templates: {t: t.ssml.j2}
                items: [{id: a, text: Hello.}]
            """,
            "t.ssml.j2": "<speak>{{ text }}</speak>",
        }
    )
    plan = load_project(root).plan()
    (root / "voxform.lock").write_bytes(lock_of(plan.changes).to_bytes())
    (root / "t.ssml.j2").write_text("<speak>{{ text }}{{ pause(200) }}</speak>")
    document = json.loads(voxform(root, "plan", "--json").stdout)
    assert document["changes"][0]["reasons"] == ["template output changed"]


def test_over_long_source_chunks_split_at_sentences(project) -> None:
    sentence = "This sentence has exactly fifty characters in it. "
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out, max_input_chars: 200}}
                voices: {n: {voice: siqi}}
                sources: [{id: s, glob: "*.txt", split: none}]
            """,
            "long.txt": sentence * 7,
        }
    )
    ws = load_project(root)
    assert not ws.problems
    ids = [r.id for r in ws.rendered]
    # Cut where the content says (render/parts.py), not greedily: seven sentences of fifty
    # characters under a limit of 200 make four parts rather than the fewest, three.
    assert ids == ["s/long-1", "s/long-2", "s/long-3", "s/long-4"]
    assert all(len(item.request.input) <= 200 for item in ws.rendered)
    assert [item.request.input.count("fifty") for item in ws.rendered] == [1, 2, 3, 1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--select", "nomatch*"], "--select 'nomatch*' matches no item"),
        (["--replace", "nope"], "--replace 'nope': no such item"),
        (["--replace", "chapters/*"], "(--replace takes item ids, not globs)"),
        (["--replace", "welcom"], "no such item (did you mean 'welcome'?)"),
    ],
)
def test_a_selection_that_names_nothing_is_an_error_not_no_changes(
    quickstart: Path, voxform: Runner, options: list[str], message: str
) -> None:
    for command in ("plan", "apply"):
        result = (
            voxform(quickstart, command, "--yes", *options)
            if command == "apply"
            else (voxform(quickstart, command, *options))
        )
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "No changes" not in result.output
    assert not (quickstart / "voxform.lock").exists()


def test_a_mistyped_lockfile_path_is_told_not_planned_in_silence(
    quickstart: Path, voxform: Runner
) -> None:
    assert voxform(quickstart, "apply", "--yes").exit_code == 0
    result = voxform(quickstart, "--lockfile", str(quickstart / "voxfrom.lock"), "plan")
    assert result.exit_code == 0
    assert "warning: there is no lockfile at" in result.output
    assert "(a mistyped --lockfile?)" in result.output
    quiet = voxform(quickstart, "plan")
    assert "warning" not in quiet.output
