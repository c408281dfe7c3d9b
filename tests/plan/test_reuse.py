"""Content-addressed reuse in the plan: a create or update whose audio is recorded for
another item is a `copy` of it, billing nothing, from a source chosen the same way each
time, and only where a copy can be made (a steady source, the same bucket and region)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxform.plan.plan import Change, TargetFacts, make_plan
from voxform.project import load_project
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import FileDigest, ObjectDigest

LOCAL = TargetFacts("local", "engine-1", billed=False, durable=False)
ICE = TargetFacts("ice", None, bucket="audio", region="cn-shanghai")
SHA = "0" * 64
ITEMS = """
        items:
          - {id: a, text: Hello there.}
          - {id: b, text: Hello there.}
          - {id: c, text: Good bye.}
"""


def rendered_of(project, target: str) -> list[RenderedItem]:
    manifest = f"""
        version: 1
        targets:
          local: {{provider: local, path: out}}
          ice: {{provider: ice, region: cn-shanghai, bucket: audio, prefix: p/}}
        voices: {{n: {{voice: siqi}}}}
        defaults: {{voice: n, target: {target}}}"""
    return load_project(project({"voxform.yaml": manifest + ITEMS})).rendered


def recorded(change: Change, name: str, *, object_: bool = False) -> LockEntry:
    """A finished entry for `change` whose audio is recorded at `name`."""
    output = ObjectDigest('"etag"', 10) if object_ else FileDigest(SHA, 10)
    return LockEntry(
        "finished",
        change.fingerprint or "",
        change.characters,
        dict(change.inputs or {}),
        url=name,
        outputs={name: output},
        audio_digest=change.audio_digest,
    )


@pytest.fixture
def local(project) -> list[RenderedItem]:
    return rendered_of(project, "local")


def test_a_new_item_with_recorded_audio_is_a_copy_that_bills_nothing(local) -> None:
    first = make_plan(local, LockState(), {"local": LOCAL}).changes
    lock = LockState({"x": recorded(first[0], "out/x.mp3"), "w": recorded(first[0], "out/w.mp3")})
    plan = make_plan(local, lock, {"local": LOCAL}, select=["a", "b", "c"])
    actions = {c.id: (c.action, c.source) for c in plan.changes}
    # The smallest id among the sources: the same plan every time.
    assert actions == {"a": ("copy", "w"), "b": ("copy", "w"), "c": ("create", None)}
    summary = plan.summary()
    assert summary["copy"] == 2 and summary["create"] == 1
    assert summary["characters"] == summary["free_characters"] == len("Good bye.")
    assert summary["copied_characters"] == 2 * len("Hello there.")
    assert summary["billed_characters"] == 0


def test_a_removed_item_is_a_source_and_a_changing_one_is_not(local) -> None:
    first = make_plan(local, LockState(), {"local": LOCAL}).changes
    lock = LockState({"old": recorded(first[0], "out/old.mp3")})
    plan = make_plan(local, lock, {"local": LOCAL})
    assert {c.id: c.action for c in plan.changes} == {
        "a": "copy",
        "b": "copy",
        "c": "create",
        "old": "delete",  # pruned after the copies are made
    }
    # `a` recorded with the audio `c` wants (its text changed since): `a` is updated in
    # this plan, so what it recorded is no source for `c`; what it makes now is, for `b`
    # (apply copies it once it is made).
    lock = LockState({"a": recorded(first[2], "out/a.mp3")})
    plan = make_plan(local, lock, {"local": LOCAL})
    assert {c.id: (c.action, c.source) for c in plan.changes} == {
        "a": ("update", None),
        "b": ("copy", "a"),
        "c": ("create", None),
    }


def test_a_line_made_twice_in_one_plan_is_made_once_and_copied(local) -> None:
    plan = make_plan(local, LockState(), {"local": LOCAL})
    assert [(c.id, c.action, c.source) for c in plan.changes] == [
        ("a", "create", None),
        ("b", "copy", "a"),
        ("c", "create", None),
    ]
    assert plan.summary()["characters"] == len("Hello there.") + len("Good bye.")
    forced = make_plan(local, LockState(), {"local": LOCAL}, replace=["b"])
    assert [c.action for c in forced.changes] == ["create", "create", "create"]


def test_a_replacement_and_audio_not_recorded_are_synthesized(local) -> None:
    first = make_plan(local, LockState(), {"local": LOCAL}).changes
    source = recorded(first[0], "out/w.mp3")
    lock = LockState({"w": source})
    plan = make_plan(local, lock, {"local": LOCAL}, replace=["a"])
    assert [c.action for c in plan.changes[:2]] == ["create", "copy"]
    unrecorded = LockState({"w": LockEntry("finished", source.fingerprint, 12, url="out/w.mp3")})
    assert make_plan(local, unrecorded, {"local": LOCAL}).changes[0].action == "create"


def test_an_object_is_copied_only_within_its_bucket_and_region(project) -> None:
    ice = rendered_of(project, "ice")
    first = make_plan(ice, LockState(), {"ice": ICE, "local": LOCAL}).changes
    lock = LockState({"w": recorded(first[0], "oss://audio/p/w.mp3", object_=True)})
    plan = make_plan(ice, lock, {"ice": ICE, "local": LOCAL})
    assert plan.changes[0].action == "copy"
    elsewhere = LockState({"w": recorded(first[0], "oss://other/p/w.mp3", object_=True)})
    assert make_plan(ice, elsewhere, {"ice": ICE, "local": LOCAL}).changes[0].action == "create"
    # Another target names the bucket in another region: which one holds it is not known.
    beijing = ICE._replace(region="cn-beijing")
    both = {"ice": ICE, "local": LOCAL, "north": beijing}
    assert make_plan(ice, lock, both).changes[0].action == "create"


def test_the_lockfile_keeps_what_a_copy_was_made_from(tmp_path: Path) -> None:
    from voxform.state.lockfile import LockfileError, read_lockfile, write_lockfile

    entry = LockEntry("finished", "sha256:" + SHA, 3, copied_from="chapters/a/p1")
    write_lockfile(tmp_path / "voxform.lock", LockState({"b": entry}))
    assert read_lockfile(tmp_path / "voxform.lock").items["b"].copied_from == "chapters/a/p1"
    text = (tmp_path / "voxform.lock").read_text().replace("chapters/a/p1", "../x")
    (tmp_path / "voxform.lock").write_text(text)
    with pytest.raises(LockfileError, match="copied_from"):
        read_lockfile(tmp_path / "voxform.lock")
