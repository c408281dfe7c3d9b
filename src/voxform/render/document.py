"""What the SSML checks make of a template's output, worked out once per template shape.

Most templates print the text between the same fixed parts: `<speak>TEXT<break/></speak>`
for every item. The output is then A + T + B, T the escaped text; what the checks say of it
is what they say of A + M + B with a stand-in M, as long as T can change nothing but its own
characters: it holds no markup character (`<`, `>`, quotes: escaping removed them), no
character XML refuses, no whitespace but single inner spaces (which canonical SSML and the
spoken text keep), and A and B hold no comment, CDATA, processing instruction or entity.
Then the document is well-formed exactly when the shape is, an attribute check that looks
at T's value would have refused M (no value check accepts M, see _STAND_IN), its canonical
form is the shape's with T for M, and it speaks the shape's characters with T's text for M.
Anything else, and every document with a problem, is checked as it is.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Final

from voxform.render.ssml import SsmlIssue, canonical_ssml, check_ssml, speak_attributes, spoken_text

# Private-use characters: no pinyin, number, rate, URL, effect or say-as value, no whitespace.
_STAND_IN: Final = "\ue000voxform\ue001"
# What T may not hold: markup, an & that is not one of escaping's entities, characters XML
# refuses, whitespace other than single spaces.
_UNSAFE_TEXT = re.compile(
    r"[<>\"'\x00-\x1f\ud800-\udfff\ufffe\uffff]|&(?!amp;|lt;|gt;|#34;|#39;)|[^\S ]|  |^ | $|^$"
)
_UNSAFE_ASCII = re.compile(r"[<>\"'\x00-\x1f]")
_UNSAFE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;|#34;|#39;)")
_UNSAFE_SHAPE = re.compile(r"<!|<\?|&")
_MAX_SHAPES: Final = 1_024


@dataclass(frozen=True)
class Document:
    """A checked template output: its SSML issues, the sampleRate its <speak> declares, its
    canonical form, and (when known here) how many characters the canonical form speaks."""

    issues: tuple[SsmlIssue, ...]
    declared: str | None
    canonical: str | None = None  # None: not worked out here
    spoken: int | None = None


@dataclass(frozen=True)
class _Shape:
    declared: str | None
    canonical: tuple[str, str]  # the canonical form around the stand-in
    spoken: int  # characters spoken besides the text


_shapes: dict[tuple[str, bool], _Shape | None] = {}


def check_document(output: str, text: str, *, emotions: bool) -> Document:
    """The checks of `output`, a template's output in which `text` (escaped, as printed)
    may appear."""
    at = output.find(text) if text else -1
    if at < 0 or not _safe(text):
        return _checked(output, emotions)
    before, after = output[:at], output[at + len(text) :]
    if text.endswith("]") and after[:1] in (">", "]"):  # would make "]]>" in text
        return _checked(output, emotions)
    key = (before + _STAND_IN + after, emotions)
    if key in _shapes:
        shape = _shapes[key]
    else:
        shape = _shape(key[0], emotions)
        if len(_shapes) < _MAX_SHAPES:
            _shapes[key] = shape
    if shape is None:
        return _checked(output, emotions)
    spoken = len(html.unescape(text)) if "&" in text else len(text)
    return Document((), shape.declared, text.join(shape.canonical), shape.spoken + spoken)


def _safe(text: str) -> bool:
    """Whether `text` holds nothing _UNSAFE_TEXT finds (quicker for ASCII, where the only
    whitespace but the space is a control character)."""
    if not text.isascii():
        return _UNSAFE_TEXT.search(text) is None
    if _UNSAFE_ASCII.search(text) or "  " in text or text[0] == " " or text[-1] == " ":
        return False
    return "&" not in text or _UNSAFE_AMPERSAND.search(text) is None


def _shape(skeleton: str, emotions: bool) -> _Shape | None:
    """What holds for every text printed where the stand-in is, or None to check each."""
    if _UNSAFE_SHAPE.search(skeleton) or skeleton.count(_STAND_IN) != 1:
        return None
    if check_ssml(skeleton, emotions=emotions):
        return None
    canonical = canonical_ssml(skeleton).split(_STAND_IN)
    spoken = spoken_text(canonical_ssml(skeleton))
    if len(canonical) != 2 or spoken.count(_STAND_IN) != 1:
        return None
    declared = speak_attributes(skeleton).get("sampleRate")
    return _Shape(declared, (canonical[0], canonical[1]), len(spoken) - len(_STAND_IN))


def _checked(output: str, emotions: bool) -> Document:
    issues = tuple(check_ssml(output, emotions=emotions))
    return Document(issues, speak_attributes(output).get("sampleRate"))
