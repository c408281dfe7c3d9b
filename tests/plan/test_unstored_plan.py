"""A job that finished but whose result could not be written here is read again, not bought
again: plan turns its `retry` into `resume` when the service keeps jobs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from voxform.plan.plan import TargetFacts, make_plan
from voxform.project import load_project
from voxform.render.model import RenderedItem
from voxform.state.lockfile import LockEntry, LockState

UNSTORED = "ResultNotStored"  # the error code, as the lockfile spells it
DURABLE = {"oss": TargetFacts("ice", None, billed=True, durable=True)}
FLEETING = {"oss": DURABLE["oss"]._replace(durable=False)}  # jobs end with the process


@pytest.fixture
def rendered(project) -> list[RenderedItem]:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {oss: {provider: ice, region: cn-shanghai, bucket: my-audio}}
                voices: {n: {voice: siqi}}
                items: [{id: a, text: Hello there.}, {id: b, text: Good bye.}]
            """
        }
    )
    return load_project(root).rendered


def failed_after_the_job(rendered: list[RenderedItem], code: str) -> LockState:
    """Both items recorded as failed with `code`, their job, media and URL kept."""
    changes = make_plan(rendered, LockState(), DURABLE).changes
    return LockState(
        {
            c.id: LockEntry(
                "failed",
                c.fingerprint or "",
                c.characters,
                dict(c.inputs or {}),
                job_id=f"job-{c.id}",
                media_id=f"media-{c.id}",
                url=f"https://b.oss/{c.id}.mp3",
                error_code=code,
                error_message="the job finished, but its subtitles could not be written: "
                "subtitles/oss/a.vtt: No space left on device",
            )
            for c in changes
        }
    )


def test_a_finished_job_whose_subtitles_were_not_written_plans_resume(rendered) -> None:
    plan = make_plan(rendered, failed_after_the_job(rendered, UNSTORED), DURABLE)

    assert [c.action for c in plan.changes] == ["resume", "resume"]
    [reason] = plan.changes[0].reasons
    assert "No space left on device" in reason
    assert reason.endswith("read again from job job-a, nothing is synthesized")
    assert plan.characters(billed=True) == 0


def test_a_job_that_failed_at_the_service_is_retried(rendered) -> None:
    plan = make_plan(rendered, failed_after_the_job(rendered, "InvalidParameter"), DURABLE)

    assert [c.action for c in plan.changes] == ["retry", "retry"]


def test_without_a_job_the_service_keeps_an_unstored_item_is_retried(rendered) -> None:
    plan = make_plan(rendered, failed_after_the_job(rendered, UNSTORED), FLEETING)

    assert [c.action for c in plan.changes] == ["retry", "retry"]


def test_an_unstored_item_without_a_job_id_is_retried(rendered) -> None:
    lock = failed_after_the_job(rendered, UNSTORED)
    lock.items["a"] = replace(lock.items["a"], job_id=None)

    plan = make_plan(rendered, lock, DURABLE)

    assert [c.action for c in plan.changes] == ["retry", "resume"]


def test_a_replacement_asked_for_is_synthesized_anew(rendered) -> None:
    plan = make_plan(rendered, failed_after_the_job(rendered, UNSTORED), DURABLE, replace=["a"])

    assert [c.action for c in plan.changes] == ["retry", "resume"]


def test_an_edited_item_is_updated_whatever_its_last_job(rendered) -> None:
    lock = failed_after_the_job(rendered, UNSTORED)
    lock.items["a"] = replace(lock.items["a"], fingerprint="0" * 64)

    plan = make_plan(rendered, lock, DURABLE)

    assert [c.action for c in plan.changes] == ["update", "resume"]
