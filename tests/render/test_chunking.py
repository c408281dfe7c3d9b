"""Paragraph and sentence splitting of text sources."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voxform.render.chunking import paragraphs, sentences


def test_markdown_is_reduced_to_speakable_paragraphs() -> None:
    text = (
        "---\ntitle: x\n---\n# Getting **started**\n\nThis is *the* first\nparagraph "
        "with a [link](http://example.com).\n\n- one\n- two\n\n```\ncode()\n```\n> quoted\n"
    )
    assert paragraphs(text, markdown=True) == [
        "Getting started",
        "This is the first paragraph with a link.",
        "one",
        "two",
        "quoted",
    ]


def test_plain_text_keeps_markup_characters() -> None:
    assert paragraphs("a *b* <c>\n\n\n d & e ", markdown=False) == ["a *b* <c>", "d & e"]


def test_sentences_respect_abbreviations_and_cjk() -> None:
    assert sentences('Dr. Smith went home. He said "hi!" Then e.g. this. 你好。世界！') == [
        "Dr. Smith went home.",
        'He said "hi!"',
        "Then e.g. this.",
        "你好。",
        "世界！",
    ]


words = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


@given(st.lists(st.tuples(words, st.sampled_from([". ", "! ", "? ", "。", " "])), max_size=20))
def test_sentences_lose_nothing_but_whitespace(parts: list[tuple[str, str]]) -> None:
    text = "".join(w + sep for w, sep in parts)
    assert "".join("".join(sentences(text)).split()) == "".join(text.split())


@given(st.lists(st.text(alphabet="abc xyz.", min_size=1, max_size=30), max_size=8))
def test_paragraphs_never_contain_blank_lines(blocks: list[str]) -> None:
    for paragraph in paragraphs("\n\n".join(blocks), markdown=False):
        assert paragraph and "\n" not in paragraph and paragraph == paragraph.strip()
