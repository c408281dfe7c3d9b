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
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token
from sentencex import segment  # type: ignore[import-untyped]

_SPACE = re.compile(r"\s+")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_ENDS_SENTENCE = tuple(".!?…。！？")

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

_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def paragraphs(text: str, *, markdown: bool) -> list[str]:
    """Split text into paragraphs of plain, single-spaced text: at blank lines, or for
    Markdown at its blocks (a heading, a paragraph, each list entry, a table)."""
    blocks = _markdown_blocks(_strip_front_matter(text)) if markdown else _plain_blocks(text)
    return [joined for block in blocks if (joined := _SPACE.sub(" ", block).strip())]


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
        if end != -1:
            return text[end + 4 :]
    return text


def _markdown_blocks(text: str) -> Iterator[str]:
    """The spoken text of each block; a table is one block, one sentence per row."""
    row: list[str] | None = None
    rows: list[str] = []
    for token in _MARKDOWN.parse(text):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            rows.append(_spoken_row(row))
            row = None
        elif token.type == "table_close":
            yield "".join(r if r.endswith("。") else r + " " for r in rows)
            rows = []
        elif token.type == "inline":
            words = _inline_text(token.children or [])
            if row is not None:
                row.append(words)
            else:
                yield words


def _spoken_row(cells: list[str]) -> str:
    """A table row as a sentence: cells joined by commas, closed by a full stop."""
    cells = [c for cell in cells if (c := _SPACE.sub(" ", cell).strip())]
    if not cells:
        return ""
    chinese = any(_CJK.search(cell) for cell in cells)
    row = ("，" if chinese else ", ").join(cells)
    return row if row.endswith(_ENDS_SENTENCE) else row + ("。" if chinese else ".")


def _inline_text(tokens: list[Token]) -> str:
    """What a reader sees of inline Markdown: text, code and image descriptions, with
    breaks as spaces; markup, raw HTML and link targets are dropped."""
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append(_inline_text(token.children or []))
    return "".join(parts)


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
