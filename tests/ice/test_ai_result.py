"""AiResult, GetSmartHandleJob's timings, read as segments: whatever the string holds, the
answer is the segments that make sense, never an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.ice.wire import MAX_SEGMENT_SECONDS, Segment, ai_result, parse_ai_result


def test_segments_round_trip() -> None:
    segments = (Segment("Hello.", 0.0, 1.25), Segment("World.", 1.25, 2.5))
    assert parse_ai_result(ai_result(segments)) == segments


def test_a_wrapping_object_is_opened() -> None:
    wrapped = json.dumps({"sentences": [{"content": "a", "from": 0, "to": 1}]})
    assert parse_ai_result(wrapped) == (Segment("a", 0.0, 1.0),)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "not json",
        "[" * 100_000 + "]" * 100_000,
        '[{"content": "a", "from": 0, "to": ' + "9" * 5000 + "}]",
        '[{"content": "a", "from": NaN, "to": 1}]',
        '[{"content": "a", "from": 0, "to": Infinity}]',
        '[{"content": "a", "from": 0, "to": 1e308}]',
        '[{"content": "a", "from": -0.5, "to": 1}]',
        '[{"content": "a", "from": 2, "to": 1}]',
        '[{"content": "a", "from": false, "to": true}]',
        '[{"content": "a", "from": "0", "to": "1e999"}]',
        '[{"content": "a", "from": [0], "to": {"s": 1}}]',
        '[{"content": "a", "to": 1}]',
        "[1, null, []]",
        json.dumps([{"content": "a", "from": 0, "to": MAX_SEGMENT_SECONDS + 1}]),
    ],
)
def test_timings_that_make_no_sense_give_no_segment(value: object) -> None:
    assert parse_ai_result(value) == ()


def test_numbers_written_as_strings_are_read() -> None:
    assert parse_ai_result('[{"content": "a", "from": "0.5", "to": "1"}]') == (
        Segment("a", 0.5, 1.0),
    )


def test_content_that_is_not_text_is_empty() -> None:
    nested = "[" * 500 + "]" * 500
    value = '[{"content": ' + nested + ', "from": 0, "to": 1}]'
    assert parse_ai_result(value) == (Segment("", 0.0, 1.0),)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)


@given(st.lists(st.fixed_dictionaries({"content": _json, "from": _json, "to": _json})))
def test_any_timings_give_sane_segments(entries: list[dict[str, object]]) -> None:
    for segment in parse_ai_result(json.dumps(entries)):
        assert isinstance(segment.content, str)
        assert 0 <= segment.start <= segment.end <= MAX_SEGMENT_SECONDS
