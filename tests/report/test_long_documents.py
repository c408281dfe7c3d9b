"""A long plan's JSON is encoded a change at a time (the usual shape of a change spelt out),
into the bytes json.dumps writes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voxform.plan.plan import Change, Plan
from voxform.report.json import JsonReporter, _change, _dumps

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


changes = st.fixed_dictionaries(
    {
        "id": st.text(),
        "action": st.sampled_from(["create", "update"]),
        "reasons": st.lists(st.text(), max_size=3),
        "characters": st.one_of(st.integers(), st.booleans(), st.text()),
    }
)


@settings(max_examples=200)
@given(
    st.lists(st.one_of(values, changes, st.dictionaries(st.text(max_size=5), values)), max_size=5),
    st.dictionaries(st.sampled_from(["summary", "errors", "orphans", "\0changes\0"]), values),
)
def test_a_document_of_many_changes_is_what_json_dumps_writes(
    changes: list[object], rest: dict[str, object]
) -> None:
    document = {**rest, "changes": changes}
    expected = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    assert _dumps(document) == expected


def test_a_plan_of_many_changes_is_printed_as_json_dumps_writes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`plan --json` writes its document in pieces of some hundreds of changes: what it
    prints is still the one document, `##[` made inert wherever it is."""
    changes = [
        Change(
            f"book/##[{n}]" if n % 7 == 0 else f"book/{n}",
            "update" if n % 3 == 0 else "create",
            ("text changed", "##[group]x") if n % 3 == 0 else ("new item",),
            n,
            deletes=(f"build/{n}.srt",) if n % 250 == 0 else (),
        )
        for n in range(1201)
    ]
    reporter = JsonReporter()
    reporter.plan(Plan(tuple(changes)), show_unchanged=True)
    reporter.finish()
    document = {
        "format_version": 1,
        "changes": [_change(c) for c in changes],
        "orphans": [],
        "summary": Plan(tuple(changes)).summary(),
        "errors": [],
        "warnings": [],
    }
    spelt = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    printed = capsys.readouterr().out
    assert printed == spelt.replace("##[", "##\\u005b") + "\n"
    assert json.loads(printed) == document
