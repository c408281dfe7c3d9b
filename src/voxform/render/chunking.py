"""Turning text files into speakable paragraphs and sentences.

Markdown is parsed (markdown-it-py, CommonMark with tables), not pattern-matched: what a
reader would see is what is spoken, so code, raw HTML and link targets are left out and a
table is read row by row. Sentences come from sentencex, a maintained segmenter that knows
abbreviations (`10 a.m.`, `Mr.`, `e.g.`), decimals, quotes and CJK full stops. Both run in
time linear in the text, whatever it holds.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator

from sentencex import segment  # type: ignore[import-untyped]

from voxform.errors import VoxformError
from voxform.render.prose import has_markup, normalised, plain, prose_blocks

# A run of whitespace that is not already one space: re.sub makes a string per match, so a
# pattern matching every single space costs a hundred bytes per word of a long table.
_SPACE = re.compile(r"[^\S ]\s*| \s+")
_SHORT = 4_096  # characters: a paragraph, not a table of a megabyte

# sentencex is fast on text where a sentence ends in punctuation and a space, but its time
# grows with the square of the sentence ends that have no space after them (Chinese, or
# "你好!我"), so such text is handed over in pieces. A piece ends after one of these ends
# where a hash of the text says so (content-defined: an edit moves no cut elsewhere), and
# after at most _MAX_ENDS of them; a cut can only differ from sentencex's own choice inside
# a quotation it spans.
_CLOSERS = re.escape("”’」』）》〉】〕])\"'")
_UNSPACED_END = re.compile(
    rf"(?:(?<![。！？．｡])[。！？．｡]++|(?<![.!?])[.!?]++(?=[\u3400-\u9fff]))"
    rf"[{_CLOSERS}]*+(?=[^\s{_CLOSERS}])"
)
_CUT_ONE_IN = 64
_MAX_ENDS = 256

# sentencex skips any terminator between an opening bracket and the next closing one of any
# kind, however far: a lone "(" or "a < b" would swallow the rest of a paragraph and leave
# an over-long chunk nothing to be cut at. It reads the text with brackets as spaces, and
# each bracket goes back to the sentence it opens or closes.
_OPENERS = "([{<（［｛〈《【〔"
_CLOSING = ")]}>）］｝〉》】〕"
_NO_BRACKETS = str.maketrans(dict.fromkeys(_OPENERS + _CLOSING, " "))


class MarkdownLimit(VoxformError):
    """A Markdown file holds more blocks, or one block more markup, than a source may."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line  # 1-based, of the block that passed the limit


def paragraphs(text: str, *, markdown: bool) -> list[str]:
    """Split text into paragraphs of plain, single-spaced text: at blank lines, or for
    Markdown at its blocks (a heading, a paragraph, each list entry, a table)."""
    if not markdown:
        return [joined for block in _plain_blocks(text) if (joined := _single_spaced(block))]
    blocks = markdown_blocks(_strip_front_matter(text))
    return [joined for block in blocks if (joined := _single_spaced(block))]


def markdown_blocks(text: str) -> Iterable[str]:
    """The spoken text of each block; a table is one block, one sentence per row. Blocks
    are parsed first (so every reference definition is known), then each block's inline
    Markdown on its own, its tokens dropped once read. A block's line breaks and runs of
    spaces may differ from what a reader sees (one space): callers collapse them."""
    text = normalised(text)
    is_plain = plain(text)
    if is_plain and not has_markup(text):  # prose alone (prose.py): as markdown-it reads it
        return prose_blocks(text)
    # Here: markdown-it is imported when a file holds Markdown, not for a plan whose every
    # source is prose or known to the source cache.
    from voxform.render.markdown import parsed_blocks, plain_paragraphs

    return plain_paragraphs(text) if is_plain else parsed_blocks(text)


def _single_spaced(block: str) -> str:
    """`block` with each run of whitespace one space, none at the ends: split and joined
    (a string per word) when short, else by pattern (a string per run that is not one space);
    itself when it is already (every whitespace character but the space is unprintable)."""
    if block.isprintable() and "  " not in block and block[:1] != " " and block[-1:] != " ":
        return block
    if len(block) < _SHORT:
        return " ".join(block.split())
    return _SPACE.sub(" ", block).strip()


def _plain_blocks(text: str) -> Iterator[str]:
    block: list[str] = []
    for line in text.splitlines():
        if line.strip():
            block.append(line)
        elif block:
            yield " ".join(block)
            block = []
    yield " ".join(block)


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:  # its lines stay, blank, so a block's line number is the file's
            return "\n" * text.count("\n", 0, end + 4) + text[end + 4 :]
    return text


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; never loses or reorders a character but spaces."""
    return [text[start:end] for start, end in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where each sentence of `text` starts and ends, without the spaces around it."""
    cuts = []  # where each sentence ends, closing brackets included
    for offset, piece in _pieces(text.translate(_NO_BRACKETS)):
        for part in segment("en", piece):
            end = offset + len(str(part).rstrip())
            offset += len(str(part))
            while end < len(text) and text[end] in _CLOSING:
                end += 1
            cuts.append(end)
    spans = []
    start = 0
    for end in [*cuts[:-1], len(text)]:  # what lies between two sentences joins one
        sentence = text[start:end]
        if sentence.strip():
            spans.append(
                (start + len(sentence) - len(sentence.lstrip()), start + len(sentence.rstrip()))
            )
        start = max(start, end)
    return spans


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    """(offset, piece) for the pieces sentencex is given, in order, covering `text`."""
    start = 0
    ends = 0
    for end in _UNSPACED_END.finditer(text):
        ends += 1
        cut = end.end()
        if (
            ends >= _MAX_ENDS
            or zlib.crc32(text[max(start, cut - 16) : cut].encode()) % (_CUT_ONE_IN) == 0
        ):
            yield start, text[start:cut]
            start, ends = cut, 0
    yield start, text[start:]
