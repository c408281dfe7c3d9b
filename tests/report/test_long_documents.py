"""A long plan's JSON is encoded a change at a time (the usual shape of a change spelt out),
into the bytes json.dumps writes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from voxform.report.json import _dumps

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
