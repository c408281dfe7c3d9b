"""Turning text files into speakable paragraphs and sentences."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPH = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_SPACE = re.compile(r"\s+")

# A sentence ends at . ! ? … (or their CJK forms), after optional closing quotes/brackets.
_SENTENCE_END = re.compile(r"""([.!?…]+["'”’)\]]*\s+|[。！？]+["'”’」』)]*\s*)""")
_ABBREVIATION = re.compile(r"(?:\b(?:[A-Z]|Mr|Mrs|Ms|Dr|St|vs|etc|e\.g|i\.e|No|Fig)\.)$")


def paragraphs(text: str, *, markdown: bool) -> list[str]:
    """Split text at blank lines into paragraphs of plain, single-spaced text."""
    if markdown:
        text = _strip_front_matter(text)
        text = _COMMENT.sub("", text)
    blocks: list[list[str]] = [[]]
    in_fence = False
    for raw in text.splitlines():
        if markdown and _FENCE.match(raw.strip()):
            in_fence = not in_fence
            blocks.append([])
            continue
        if in_fence:
            continue
        if not raw.strip():
            blocks.append([])
            continue
        if markdown:
            heading = _HEADING.match(raw)
            if heading:
                blocks.extend([[heading.group(1)], []])
                continue
            if _RULE.match(raw) or _REF_DEF.match(raw):
                blocks.append([])
                continue
            line = _QUOTE.sub("", raw)
            if _LIST.match(line):
                blocks.append([])  # each list entry is spoken as its own paragraph
                line = _LIST.sub("", line)
            blocks[-1].append(line)
        else:
            blocks[-1].append(raw)
    result = []
    for block in blocks:
        joined = _SPACE.sub(" ", " ".join(block)).strip()
        if markdown:
            joined = _inline_markdown(joined)
        if joined:
            result.append(joined)
    return result


def _strip_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :]
    return text


def _inline_markdown(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPH.sub(r"\2", text)
    return _SPACE.sub(" ", text).strip()


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences; never loses or reorders a character but spaces."""
    result: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.end()].strip()
        if _ABBREVIATION.search(text[start : match.start() + 1]) and match.group(1).strip() == ".":
            continue
        if candidate:
            result.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        result.append(tail)
    return result
