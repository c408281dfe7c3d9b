"""The audio digest: the fingerprint without the output place. Items that sound the same
share it wherever they are written; anything that changes the sound changes it."""

from __future__ import annotations

from voxform.plan.plan import TargetFacts, make_plan
from voxform.project import load_project
from voxform.state.lockfile import LockEntry, LockState

LOCAL = TargetFacts("local", "engine-1", billed=False, durable=False)
FACTS = {"out": LOCAL, "other": LOCAL}
MANIFEST = """
    version: 1
    targets:
      out: {provider: local, path: out}
      other: {provider: local, path: other}
    voices: {n: {voice: siqi}, fast: {voice: siqi, speech_rate: 200}}
    defaults: {voice: n, target: out}
    items:
      - {id: a, text: Hello there.}
      - {id: moved/a, text: Hello there.}
      - {id: elsewhere, text: Hello there., target: other}
      - {id: wav, text: Hello there., format: wav}
      - {id: faster, text: Hello there., voice: fast}
      - {id: other-text, text: Good bye.}
"""


def test_the_same_audio_anywhere_has_one_digest_and_other_audio_another(project) -> None:
    rendered = load_project(project({"voxform.yaml": MANIFEST})).rendered
    plan = make_plan(rendered, LockState(), FACTS)
    digest = {c.id: c.audio_digest for c in plan.changes}
    fingerprints = {c.id: c.fingerprint for c in plan.changes}
    assert digest["a"] == digest["moved/a"] == digest["elsewhere"]
    assert len({fingerprints["a"], fingerprints["moved/a"], fingerprints["elsewhere"]}) == 3
    assert len({digest["a"], digest["wav"], digest["faster"], digest["other-text"]}) == 4
    assert all(d is not None and d.startswith("sha256:") for d in digest.values())
    newer = LOCAL._replace(engine="engine-2")
    upgraded = {"out": newer, "other": newer}
    assert make_plan(rendered, LockState(), upgraded).changes[0].audio_digest != digest["a"]


def test_an_unchanged_item_costs_no_audio_digest(project) -> None:
    rendered = load_project(project({"voxform.yaml": MANIFEST})).rendered
    facts = FACTS
    first = make_plan(rendered, LockState(), facts)
    lock = LockState(
        {
            c.id: LockEntry("finished", c.fingerprint or "", c.characters, dict(c.inputs or {}))
            for c in first.changes
        }
    )
    again = make_plan(rendered, lock, facts)
    assert {c.action for c in again.changes} == {"unchanged"}
    assert {c.audio_digest for c in again.changes} == {None}
