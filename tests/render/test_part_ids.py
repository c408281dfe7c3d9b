"""Ids of the parts of an over-long chunk survive edits like chunk ids do."""

from __future__ import annotations

import pytest

from voxform.render.ids import align, align_parts, part_chunk

# The lockfile of a file whose second paragraph was split into three parts.
KNOWN = {
    "s/f/p1": "A",
    "s/f/p2-1": part_chunk("B", "x"),
    "s/f/p2-2": part_chunk("B", "y"),
    "s/f/p2-3": part_chunk("B", "z"),
    "s/f/p3": "C",
    "s/f-2": "unrelated",  # a file named f-2 with split: none, not a part of s/f
}


@pytest.mark.parametrize(
    ("digests", "keys"),
    [
        (["x", "y", "z"], ["1", "2", "3"]),  # unchanged
        (["x", "Y", "z"], ["1", "2", "3"]),  # edited in place keeps its key
        (["x", "y", "new", "z"], ["1", "2", "2.1", "3"]),  # a part cut in two
        (["new", "x", "y", "z"], ["0.1", "1", "2", "3"]),
        (["x", "z"], ["1", "3"]),  # two parts became one
    ],
)
def test_part_keys_of_other_parts_never_move(digests: list[str], keys: list[str]) -> None:
    assert align_parts("s/f/p2", digests, KNOWN) == keys


def test_a_chunk_split_for_the_first_time_numbers_its_parts_from_one() -> None:
    assert align_parts("s/f/p3", ["a", "b"], KNOWN) == ["1", "2"]
    assert align_parts("s/f", ["a", "b"], KNOWN) == ["1", "2"]  # s/f-2 is no part of it


def test_parts_recorded_before_part_digests_are_numbered_afresh() -> None:
    old = {"s/f/p2-1": "B", "s/f/p2-2": "B"}  # a lockfile from before: the chunk only
    assert align_parts("s/f/p2", ["x", "y", "z"], old) == ["1", "2", "3"]


def test_a_split_paragraph_keeps_its_own_key_among_paragraphs() -> None:
    assert align("s/f", ["A", "B", "C"], KNOWN) == ["p1", "p2", "p3"]
    assert align("s/f", ["A", "new", "B", "C"], KNOWN) == ["p1", "p1.1", "p2", "p3"]
    fractional = {**KNOWN, "s/f/p2-2.1": part_chunk("B", "w")}
    assert align("s/f", ["A", "B", "C"], fractional) == ["p1", "p2", "p3"]
