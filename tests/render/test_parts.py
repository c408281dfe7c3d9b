"""The content-defined cut of an over-long chunk into parts, as a pure function."""

from __future__ import annotations

from itertools import accumulate

from hypothesis import given
from hypothesis import strategies as st

from voxform.render.parts import partition

sentence_lists = st.lists(
    st.text(alphabet="abcdefgh ", min_size=1, max_size=40).map(str.strip).filter(bool),
    min_size=1,
    max_size=60,
)


def cut(sentences: list[str], budget: int) -> list[tuple[int, int]]:
    weights = [len(s) + 1 for s in sentences]
    ends = [0, *accumulate(weights)]
    return partition(sentences, weights, budget, lambda a, b: ends[b] - ends[a] <= budget)


@given(sentence_lists, st.integers(min_value=1, max_value=200))
def test_parts_cover_every_sentence_in_order_and_fit(sentences: list[str], budget: int) -> None:
    runs = cut(sentences, budget)
    assert [r[0] for r in runs] == [0, *[r[1] for r in runs[:-1]]]
    assert runs[-1][1] == len(sentences)
    for start, end in runs:
        assert end - start == 1 or sum(len(s) + 1 for s in sentences[start:end]) <= budget


@given(sentence_lists, st.integers(min_value=20, max_value=200), st.data())
def test_an_inserted_sentence_is_paid_for_near_where_it_lands(
    sentences: list[str], budget: int, data: st.DataObject
) -> None:
    # Cuts depend on content, not positions: whatever the text, the parts an insertion
    # makes new hold a few budgets' worth, never the rest of the chunk.
    where = data.draw(st.integers(min_value=0, max_value=len(sentences)))
    before = [tuple(sentences[a:b]) for a, b in cut(sentences, budget)]
    grown = [*sentences[:where], "an inserted sentence", *sentences[where:]]
    after = [tuple(grown[a:b]) for a, b in cut(grown, budget)]
    new = [p for p in after if p not in before]
    assert sum(len(" ".join(p)) for p in new) <= 3 * budget


def test_one_sentence_repeated_is_cut_into_even_parts_not_peeled() -> None:
    sentences = ["Hello there."] * 8000  # 13 characters a sentence with its space
    runs = cut(sentences, 2000)
    assert len(runs) < 2 * 8000 * 13 / 2000
    assert min(end - start for start, end in runs) > 10


def test_no_sentences_make_no_parts() -> None:
    assert partition([], [], 100, lambda a, b: True) == []
