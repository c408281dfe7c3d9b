"""A word-level diff of two texts, for the review page: what a listener hears change.

Words, runs of whitespace and single punctuation marks are the tokens (and for SSML, a whole
tag or entity is one token, so a changed attribute shows as the tag replaced, not as shreds of
markup). Equal, deleted and inserted runs come back as segments; `diff_html` escapes each one
and wraps the changes in <del> and <ins>.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["equal", "delete", "insert"]
Segment = tuple[Op, str]

# Chinese and Japanese put no spaces between words: each of their characters is a token (a
# "word" of them would be a whole clause, and one changed character would mark it all).
_IDEOGRAPHS = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_WORD = rf"(?:(?![{_IDEOGRAPHS}])\w)+(?:['’](?:(?![{_IDEOGRAPHS}])\w)+)*|[{_IDEOGRAPHS}]"
_WORDS = re.compile(rf"\s+|{_WORD}|[^\w\s]")
_MARKUP = re.compile(rf"<[^<>]*>?|&#?\w+;|\s+|{_WORD}|[^\w\s]")


def tokens(text: str, *, markup: bool = False) -> list[str]:
    """The text cut into tokens that join back into it exactly."""
    return (_MARKUP if markup else _WORDS).findall(text)


def diff(old: str, new: str, *, markup: bool = False) -> list[Segment]:
    """Segments that, read in order, give `old` (equal + delete) and `new` (equal + insert)."""
    a, b = tokens(old, markup=markup), tokens(new, markup=markup)
    # An edit touches a few words of a paragraph: match the common ends directly, and leave
    # SequenceMatcher (quadratic in a common token such as " ") only the middle.
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    segments: list[Segment] = []
    _add(segments, "equal", "".join(a[:start]))
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    matcher = SequenceMatcher(None, middle_a, middle_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            _add(segments, "equal", "".join(middle_a[i1:i2]))
            continue
        if op in ("delete", "replace"):
            _add(segments, "delete", "".join(middle_a[i1:i2]))
        if op in ("insert", "replace"):
            _add(segments, "insert", "".join(middle_b[j1:j2]))
    _add(segments, "equal", "".join(a[len(a) - end :]))
    return list(_tidy(segments))


def _add(segments: list[Segment], op: Op, text: str) -> None:
    if not text:
        return
    if segments and segments[-1][0] == op:
        segments[-1] = (op, segments[-1][1] + text)
    else:
        segments.append((op, text))


def _tidy(segments: list[Segment]) -> Iterator[Segment]:
    """Fold a lone space between two changes into them ("a b" -> "x y" reads as one change,
    not four), and keep deletions before insertions in each run of changes."""
    pending: list[Segment] = []
    for index, (op, text) in enumerate(segments):
        between = 0 < index < len(segments) - 1 and segments[index - 1][0] != "equal"
        if op == "equal" and between and segments[index + 1][0] != "equal" and not text.strip():
            pending.append(("delete", text))
            pending.append(("insert", text))
            continue
        if op == "equal":
            yield from _ordered(pending)
            pending = []
            yield op, text
        else:
            pending.append((op, text))
    yield from _ordered(pending)


def _ordered(pending: list[Segment]) -> Iterator[Segment]:
    for wanted in ("delete", "insert"):
        text = "".join(t for op, t in pending if op == wanted)
        if text:
            yield wanted, text


def diff_html(old: str, new: str, *, markup: bool = False) -> str:
    """The diff as HTML: every segment escaped, changes in <del> and <ins>."""
    parts: list[str] = []
    for op, text in diff(old, new, markup=markup):
        escaped = html.escape(text, quote=False)  # element content: quotes need no escape
        if op == "equal":
            parts.append(escaped)
        elif op == "delete":
            parts.append(f"<del>{escaped}</del>")
        else:
            parts.append(f"<ins>{escaped}</ins>")
    return "".join(parts)
