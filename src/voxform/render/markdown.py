"""What a reader sees of a Markdown file, block by block, in time and memory linear in it.

markdown-it-py parses CommonMark; its GFM table rule makes three tokens per cell and its
cell splitter walks every character in Python, so a 3 MB table of 5,000 columns took 53 s and
2 GB. Tables here go through our own rule instead: markdown-it's own check decides where a
table starts (same tables as before), the table leaves one token holding its rows, and each
row is spoken as it is read, its cells inline-parsed only when they hold markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from markdown_it import MarkdownIt
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_block.table import MAX_AUTOCOMPLETED_CELLS
from markdown_it.rules_block.table import table as _gfm_table
from markdown_it.token import Token
from markdown_it.utils import EnvType

from voxform.render.chunking import MarkdownLimit
from voxform.render.prose import MAX_BLOCK_TOKENS

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_ENDS_SENTENCE = tuple(".!?…。！？")
# Characters that can make inline Markdown differ from its text: escapes, code, emphasis
# and strikethrough, links and images, autolinks and HTML, entities. A cell without any is
# spoken as written, without the inline parser.
_INLINE_MARKUP = re.compile(r"[\\`*_~\[<&]")
_CELL_PIPE = re.compile(r"(?<!\\)\|")  # markdown-it's escapedSplit: `\|` is a pipe in a cell
_ROW = re.compile(r"[^\n]+")
_MUCH_MARKUP = (
    "a paragraph with more than {limit:,} pieces of Markdown (text, emphasis, links, code); "
    "split it"
)
# 40 MB of one block's inline tokens: a 10 MB book of prose makes at most a few thousand
# inline ones per block (and some 60,000 block tokens: prose.py's MAX_BLOCK_TOKENS).
MAX_INLINE_TOKENS: Final = 50_000
_SEEN_CELLS: Final = 10_000
TABLE: Final = "voxform_table"  # the one token a table leaves, its spoken text as content


def _table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A GFM table where markdown-it would see one, left as one token holding its rows
    (what a container's markers leave of them), one a line; spoken once references are
    known (markdown_blocks)."""
    if not _gfm_table(state, start, end, True):  # only checks; pushes nothing
        return False
    if silent:
        return True
    terminators = state.md.block.ruler.getRules("blockquote")
    rows = [_line(state, start)]
    line = start + 2
    while line < end:
        if state.sCount[line] < state.blkIndent or any(
            rule(state, line, end, True) for rule in terminators
        ):
            break
        text = _line(state, line)
        if not text or state.is_code_block(line):
            break
        rows.append(text)
        line += 1
    token = state.push(TABLE, "table", 0)
    token.map = [start, line]
    token.content = "\n".join(rows)
    state.line = line
    return True


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].strip()


def _spoken_table(md: MarkdownIt, rows: str, env: EnvType) -> str:
    """A table's rows as sentences, each read as it comes (nothing kept per cell)."""
    spoken: list[str] = []
    seen: dict[str, str] = {}
    width = autocompleted = 0
    for number, match in enumerate(_ROW.finditer(rows)):
        cells = _cells(md, match.group(), env, seen)
        if number == 0:
            width = len(cells)  # the header row sets the width of the table
        else:
            autocompleted += width - len(cells)
            if autocompleted > MAX_AUTOCOMPLETED_CELLS:  # markdown-it stops the table here
                break
        row = _spoken_row(cells[:width])
        spoken.append(row if row.endswith("。") else row + " ")  # as before: same digests
    return "".join(spoken)


def _cells(md: MarkdownIt, row: str, env: EnvType, seen: dict[str, str]) -> list[str]:
    """The spoken text of each cell of a row, outer pipes dropped; `seen` holds cells
    already parsed (a column repeats its values, and each parse costs tens of microseconds)."""
    if _INLINE_MARKUP.search(row) is None:
        cells = [cell.strip() for cell in row.split("|")]
    else:
        cells = []
        for raw in _CELL_PIPE.split(row):
            cell = raw.replace("\\|", "|").strip()
            spoken = seen.get(cell)
            if spoken is None:
                spoken = _inline(md, cell, env)
                if len(seen) < _SEEN_CELLS:
                    seen[cell] = spoken
            cells.append(spoken)
    if cells and row.startswith("|"):
        cells.pop(0)
    if cells and row.endswith("|") and not row.endswith("\\|"):
        cells.pop()
    return cells


def _inline(md: MarkdownIt, cell: str, env: EnvType) -> str:
    if _INLINE_MARKUP.search(cell) is None:
        return cell
    children = _Tokens(
        MAX_INLINE_TOKENS, "a table cell with more than {limit:,} pieces of Markdown; split it"
    )
    md.inline.parse(cell, md, env, children)
    return inline_text(children).strip()


def _spoken_row(cells: list[str]) -> str:
    """A table row as a sentence: cells joined by commas, closed by a full stop."""
    cells = [cell for cell in cells if cell]
    if not cells:
        return ""
    chinese = _CJK.search("".join(cells)) is not None
    row = ("，" if chinese else ", ").join(cells)
    return row if row.endswith(_ENDS_SENTENCE) else row + ("。" if chinese else ".")


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    md.block.ruler.at("table", _table, {"alt": ["paragraph", "reference"]})
    # Link targets are never spoken: normalising each one (a quarter of the time of prose
    # with links) only to drop it is work for nothing.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


_MARKDOWN = _markdown()


class _Tokens(list[Token]):
    """A token list that refuses to grow past `limit`: markdown-it's tokens cost 350 to 800
    bytes each, so its memory is bounded where they are made, not after."""

    def __init__(self, limit: int, what: str, line: int = 0) -> None:
        super().__init__()
        self.limit, self.what, self.line = limit, what, line

    def append(self, token: Token) -> None:
        if len(self) >= self.limit:
            # markdown-it sets a token's lines after pushing it: the last one made has them
            line = next((t.map[0] for t in self[:-10:-1] if t.map), self.line)
            raise MarkdownLimit(line + 1, self.what.format(limit=self.limit))
        super().append(token)


def parsed_blocks(text: str) -> Iterator[str]:
    """markdown_blocks by markdown-it's block rules, whatever the text holds."""
    env: EnvType = {}
    blocks = _Tokens(
        MAX_BLOCK_TOKENS,
        "too many Markdown blocks for one file (a paragraph, heading, list entry or quote "
        "counts 3 to 6 of at most {limit:,}); split it into several files",
    )
    _MARKDOWN.block.parse(text, _MARKDOWN, env, blocks)
    for token in blocks:
        if token.type == "inline":
            line = token.map[0] if token.map else 0
            children = _Tokens(MAX_INLINE_TOKENS, _MUCH_MARKUP, line)
            _MARKDOWN.inline.parse(token.content, _MARKDOWN, env, children)
            yield inline_text(children)
        elif token.type == TABLE:
            yield _spoken_table(_MARKDOWN, token.content, env)


def plain_paragraphs(text: str) -> Iterator[str]:
    """The paragraphs of a file whose every line starts with a letter (or is blank): no
    block construct can start there, so its blocks are its runs of lines, what markdown-it's
    paragraph rule makes of them, without its per-line rules; a paragraph is inline-parsed
    only when it holds markup (a file of prose alone is chunking.markdown_blocks' own)."""
    line = 0
    for block in text.split("\n\n"):
        start = line + len(block) - len(block.lstrip("\n"))
        line += block.count("\n") + 2
        content = block.strip()
        if not content:
            continue
        if _INLINE_MARKUP.search(content) is None:
            yield content
            continue
        children = _Tokens(MAX_INLINE_TOKENS, _MUCH_MARKUP, start)
        _MARKDOWN.inline.parse(content, _MARKDOWN, {}, children)
        yield inline_text(children)


def inline_text(tokens: list[Token]) -> str:
    """What a reader sees of inline Markdown: text, code and image descriptions, with
    breaks as spaces; markup, raw HTML and link targets are dropped."""
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "text_special", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append(inline_text(token.children or []))
    return "".join(parts)
