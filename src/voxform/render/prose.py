"""Markdown that is prose alone, read without markdown-it (render/markdown.py).

A file whose every line starts with a letter (or is blank) can start no block construct
but a paragraph, and one without any markup character can hold no inline Markdown: its
blocks are its runs of lines, spoken as written. Such a file, the common case of a book,
needs neither markdown-it nor the time to import it.
"""

from __future__ import annotations

import re
from typing import Final

# A line that could start a block construct other than a paragraph (heading, list, quote,
# code, fence, rule, HTML, table, reference, setext underline) or be a blank one with
# spaces: starting with anything but a letter (or ending the text). A file without one is
# read without markdown-it's block rules.
# Looked for as a line break and what follows it (a literal first: searched for fast, where
# a `^` is tried at every character), the first line on its own.
_UNPLAIN_START = re.compile(r"[^\w\n]|[\d_]")
_UNPLAIN_LINE = re.compile(r"\n(?:[^\w\n]|[\d_])")
# Characters that can make inline Markdown differ from its text: escapes, code, emphasis
# and strikethrough, links and images, autolinks and HTML, entities.
MARKUP_CHARACTERS: Final = "\\`*_~[<&"
# About 50 MB of block tokens: a 10 MB book of prose makes some 60,000 block tokens.
MAX_BLOCK_TOKENS: Final = 150_000
_PLAIN_BLOCKS: Final = MAX_BLOCK_TOKENS // 3 - 1  # 3 tokens a paragraph: the limit tells


def normalised(text: str) -> str:
    """`text` with markdown-it's line breaks (`\\n` only) and no NUL."""
    if "\r" in text:  # markdown-it's own normalising makes a string per line
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\0", "\ufffd")


def plain(text: str) -> bool:
    """Whether every line of normalised `text` starts with a letter or is empty, in blocks
    few enough that markdown-it's limit on them could not tell."""
    return (
        _UNPLAIN_START.match(text) is None
        and _UNPLAIN_LINE.search(text) is None
        and text.count("\n\n") < _PLAIN_BLOCKS
    )


def has_markup(text: str) -> bool:
    return any(character in text for character in MARKUP_CHARACTERS)


def prose_blocks(text: str) -> list[str]:
    """The blocks of a normalised `text` that is `plain` and has no markup, as
    markdown-it's paragraph rule makes them (stripped), with no generator step per block."""
    return [content for block in text.split("\n\n") if (content := block.strip())]
