"""The word diff of the review page: exact, readable, escaped."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.review.diff import diff, diff_html, tokens

WORDS = st.lists(
    st.sampled_from(
        [
            "the",
            "fox",
            "a",
            "über",
            "don't",
            " ",
            "  ",
            "\n",
            ".",
            ",",
            "<b>",
            "&amp;",
            "我们",
            "学",
            "。",
            "カナ",
        ]
    ),
    max_size=40,
).map("".join)


@given(WORDS, WORDS, st.booleans())
def test_the_segments_give_back_both_texts(old: str, new: str, markup: bool) -> None:
    segments = diff(old, new, markup=markup)
    assert "".join(t for op, t in segments if op != "insert") == old
    assert "".join(t for op, t in segments if op != "delete") == new
    assert all(text for _, text in segments)
    assert all(a[0] != b[0] for a, b in itertools.pairwise(segments))


@given(WORDS, st.booleans())
def test_tokens_join_back_into_the_text(text: str, markup: bool) -> None:
    assert "".join(tokens(text, markup=markup)) == text


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("The quick fox.", "The quick fox.", "The quick fox."),
        ("The quick fox.", "The slow fox.", "The <del>quick</del><ins>slow</ins> fox."),
        (
            "It reads S Q L aloud.",
            "It reads sequel aloud.",
            "It reads <del>S Q L</del><ins>sequel</ins> aloud.",
        ),
        ("Hello.", "Hello, world.", "Hello<ins>, world</ins>."),
        ("don't stop", "do not stop", "<del>don't</del><ins>do not</ins> stop"),
        ("a < b & c", "a > b & c", "a <del>&lt;</del><ins>&gt;</ins> b &amp; c"),
        ("我们今天学习SQL。", "我们明天学习SQL。", "我们<del>今</del><ins>明</ins>天学习SQL。"),
    ],
)
def test_changed_words_are_marked_and_everything_is_escaped(
    old: str, new: str, expected: str
) -> None:
    assert diff_html(old, new) == expected


def test_a_changed_ssml_attribute_replaces_the_whole_tag() -> None:
    old = '<speak><break time="300ms"/>Hi</speak>'
    new = '<speak><break time="500ms"/>Hi</speak>'
    assert diff_html(old, new, markup=True) == (
        '&lt;speak&gt;<del>&lt;break time="300ms"/&gt;</del>'
        '<ins>&lt;break time="500ms"/&gt;</ins>Hi&lt;/speak&gt;'
    )


def test_injected_markup_in_a_diff_stays_text() -> None:
    html = diff_html("safe", "</script><script>alert(1)</script>")
    assert "<script>" not in html and "</script>" not in html
    assert html.startswith("<del>safe</del><ins>&lt;/script&gt;&lt;script&gt;")
