"""Object drift in the pure plan: what the buckets hold now (`held`, read by the caller) against
what the lockfile records, each difference an update that names the object."""

from __future__ import annotations

from dataclasses import replace

import pytest

from plan.test_plan import lock_of, rendered  # noqa: F401  (a fixture)
from voxform.plan.plan import TargetFacts, make_plan, object_drift
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import FileDigest, ObjectDigest, Output

ENGINES = {"local": TargetFacts("local", "engine-1", billed=False, durable=True)}
NAME = "oss://my-audio/course/a.mp3"
RECORDED = ObjectDigest('"abc"', 100, 7)


def entry(state: str = "finished") -> LockEntry:
    return LockEntry(state, "sha256:x", 3, {}, outputs={NAME: RECORDED})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("found", "reason"),
    [
        (None, f"object missing: {NAME}"),
        (ObjectDigest('"def"', 100), f"object changed: {NAME}"),
        (ObjectDigest('"abc"', 101), f"object changed: {NAME}"),
        (ObjectDigest('"abc"', 100, 8), f"object changed: {NAME}"),
        (FileDigest("0" * 64, 100), f"object changed: {NAME}"),
        (ObjectDigest('"abc"', 100), None),  # a listing tells no CRC-64: the same object
        (ObjectDigest('"abc"', 100, 7), None),
    ],
)
def test_an_object_missing_or_not_as_recorded_is_named(found: Output | None, reason: str) -> None:
    assert object_drift(entry(), {NAME: found}) == reason


def test_an_object_not_read_or_an_entry_not_finished_has_no_drift() -> None:
    assert object_drift(entry(), {}) is None
    assert object_drift(entry("failed"), {NAME: None}) is None
    assert object_drift(None, {NAME: None}) is None


def test_a_drifted_object_plans_an_update_never_a_resume(rendered) -> None:  # noqa: F811
    lock = lock_of(make_plan(rendered, LockState(), ENGINES).changes)
    lock.items["a"] = replace(lock.items["a"], job_id="j1", outputs={NAME: RECORDED})
    quiet = make_plan(rendered, lock, ENGINES, held={NAME: RECORDED})
    assert not quiet.pending
    plan = make_plan(rendered, lock, ENGINES, held={NAME: None}, drift={"a": "output file missing"})
    assert [(c.id, c.action, c.reasons) for c in plan.pending] == [
        ("a", "update", (f"object missing: {NAME}",))
    ]
    assert plan.pending[0].audio_digest is not None
