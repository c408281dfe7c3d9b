"""Paragraph and sentence splitting of text sources."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
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


def test_markdown_tables_are_spoken_row_by_row_not_as_pipes() -> None:
    text = (
        "Prices:\n\n"
        "| Plan | Price | Note |\n|:-----|------:|------|\n| Basic | 10 | |\n"
        "| Pro **plus** | 20 | best \\| value |\n\n"
        "| 名字 | 年龄 |\n|---|---|\n| 小明 | 十岁 |\n"
    )
    assert paragraphs(text, markdown=True) == [
        "Prices:",
        "Plan, Price, Note. Basic, 10. Pro plus, 20, best | value.",
        "名字，年龄。小明，十岁。",
    ]


@pytest.mark.parametrize(
    ("markdown", "spoken"),
    [
        ("Setext heading\n===\n\nBody.", ["Setext heading", "Body."]),
        ("Some text.\n\n    indented_code()\n\nMore.", ["Some text.", "More."]),
        ("<div>\nraw html block\n</div>\n\nAfter.", ["After."]),
        ("a <!-- note --> b <br/> c", ["a b c"]),
        ("Rock &amp; roll, 3 &lt; 4, \\*not emphasis\\*.", ["Rock & roll, 3 < 4, *not emphasis*."]),
        (
            "![a chart](c.png) and [a **bold** link][ref].\n\n[ref]: http://x",
            ["a chart and a bold link."],
        ),
        ("line one  \nline two\\\nline three", ["line one line two line three"]),
        ("1. first\n2. second\n   - nested", ["first", "second", "nested"]),
        ("~~gone~~ kept `x < y`", ["gone kept x < y"]),
        ("> quoted\n> > deeper", ["quoted", "deeper"]),
    ],
)
def test_markdown_is_parsed_not_pattern_matched(markdown: str, spoken: list[str]) -> None:
    assert paragraphs(markdown, markdown=True) == spoken


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We meet at 10 a.m. on Monday. Bring coffee.",
            ["We meet at 10 a.m. on Monday.", "Bring coffee."],
        ),
        (
            "Mr. Smith went to Washington. He said hi.",
            ["Mr. Smith went to Washington.", "He said hi."],
        ),
        ("Use a tool, e.g. a hammer. Then stop.", ["Use a tool, e.g. a hammer.", "Then stop."]),
        ("Pi is 3.14 roughly. Really.", ["Pi is 3.14 roughly.", "Really."]),
        (
            'He said "Stop!" Then he left. "Why?" she asked.',
            ['He said "Stop!"', "Then he left.", '"Why?" she asked.'],
        ),
        ("你好。世界！真的吗？是的。", ["你好。", "世界！", "真的吗？", "是的。"]),
        ("他说：“好的。”然后走了。", ["他说：“好的。”", "然后走了。"]),
        ("Wait... what? No way!", ["Wait... what?", "No way!"]),
    ],
)
def test_sentences_come_from_a_segmenter_that_knows_abbreviations(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "We know 3 < 4. It is true. It is also known. And 5 > 4.",
            ["We know 3 < 4.", "It is true.", "It is also known.", "And 5 > 4."],
        ),
        (
            "He left (for good. It was late. Then) he came back.",
            ["He left (for good.", "It was late.", "Then) he came back."],
        ),
        ("End of it. (Next one.) Then more.", ["End of it.", "(Next one.)", "Then more."]),
        ("他说（我们走吧。天黑了。）然后走了。", ["他说（我们走吧。", "天黑了。）", "然后走了。"]),
    ],
)
def test_a_stray_bracket_does_not_swallow_the_sentences_after_it(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


def test_long_chinese_paragraphs_are_segmented_whole() -> None:
    text = "".join(f"第{n}句话。" for n in range(3000))
    assert sentences(text) == [f"第{n}句话。" for n in range(3000)]


words = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


@given(st.lists(st.tuples(words, st.sampled_from([". ", "! ", "? ", "。", " "])), max_size=20))
def test_sentences_lose_nothing_but_whitespace(parts: list[tuple[str, str]]) -> None:
    text = "".join(w + sep for w, sep in parts)
    assert "".join("".join(sentences(text)).split()) == "".join(text.split())


@given(st.lists(st.text(alphabet="abc xyz.", min_size=1, max_size=30), max_size=8))
def test_paragraphs_never_contain_blank_lines(blocks: list[str]) -> None:
    for paragraph in paragraphs("\n\n".join(blocks), markdown=False):
        assert paragraph and "\n" not in paragraph and paragraph == paragraph.strip()


# Prose as people write it, and every character that starts or ends Markdown's constructs,
# at line starts and inside lines, so the shortcut for files of plain paragraphs is checked
# against markdown-it's block rules on texts that take it and texts that must not.
_PROSE = st.lists(
    st.one_of(
        st.sampled_from(["Word ", "more words", " é", "中文", "\n", "\n\n", "\nNext "]),
        st.sampled_from([*"\\*_~`[]()!<>&#-=+|:1.\t\u00a0\x0c\0", "\r\n", "  \n", "&amp;"]),
        st.sampled_from(["[x]: /u\n", "# h\n", "- l\n", "1. n\n", "\n    code", "[x]"]),
    ),
    max_size=40,
).map("".join)


@given(_PROSE)
def test_plain_paragraphs_read_as_markdown_it_reads_them(text: str) -> None:
    from voxform.render.chunking import markdown_blocks
    from voxform.render.markdown import parsed_blocks

    def spoken(blocks: Iterator[str]) -> list[str]:
        return [b for b in (" ".join(x.split()) for x in blocks) if b]

    normalised = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    assert spoken(markdown_blocks(text)) == spoken(parsed_blocks(normalised))


def test_a_book_of_plain_paragraphs_reads_as_markdown_it_reads_it() -> None:
    from voxform.render.chunking import markdown_blocks
    from voxform.render.markdown import parsed_blocks

    book = "\n\n".join(
        f"Paragraph {n} has *some* words,\nand a line break{'  ' * (n % 2)}\nhere & there."
        for n in range(300)
    )
    assert list(markdown_blocks(book)) != []
    assert [" ".join(b.split()) for b in markdown_blocks(book)] == [
        " ".join(b.split()) for b in parsed_blocks(book)
    ]


@given(
    st.lists(
        st.sampled_from(["a", "b c", " ", "  ", "\n", "\t", "\x1c", "\xa0", "\u2028", "\x85"]),
        max_size=40,
    ).map("".join)
)
def test_short_and_long_blocks_are_single_spaced_alike(text: str) -> None:
    from voxform.render import chunking

    long = text + " " * chunking._SHORT  # spaces at the end are dropped either way
    assert chunking._single_spaced(text) == chunking._single_spaced(long)
    assert chunking._single_spaced(text) == chunking._SPACE.sub(" ", text).strip()
