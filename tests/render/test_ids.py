"""Chunk ids survive edits and insertions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.render.ids import align

KNOWN = {"s/f/p1": "a", "s/f/p2": "b", "s/f/p3": "c", "other/f/p9": "z"}


@pytest.mark.parametrize(
    ("digests", "keys"),
    [
        (["a", "b", "c"], ["p1", "p2", "p3"]),  # unchanged
        (["a", "B", "c"], ["p1", "p2", "p3"]),  # edited in place keeps its key
        (["a", "x", "b", "c"], ["p1", "p1.1", "p2", "p3"]),  # inserted between
        (["x", "a", "b", "c"], ["p0.1", "p1", "p2", "p3"]),  # inserted first
        (["a", "b", "c", "d"], ["p1", "p2", "p3", "p4"]),  # appended
        (["a", "c"], ["p1", "p3"]),  # removed
    ],
)
def test_keys_of_other_chunks_never_move(digests: list[str], keys: list[str]) -> None:
    assert align("s/f", digests, KNOWN) == keys


def test_first_expansion_numbers_from_one() -> None:
    assert align("s/f", ["a", "b"], {}) == ["p1", "p2"]


@given(st.lists(st.integers(0, 5), max_size=12), st.lists(st.integers(0, 5), max_size=12))
def test_keys_are_unique_and_sorted_in_document_order(old: list[int], new: list[int]) -> None:
    known = {
        f"s/f/{k}": str(d)
        for k, d in zip(align("s/f", [str(d) for d in old], {}), old, strict=True)
    }
    keys = align("s/f", [str(d) for d in new], known)
    assert len(keys) == len(set(keys)) == len(new)
    numbers = [float(k[1:]) for k in keys]
    assert numbers == sorted(numbers)
