"""Alibaba's SSML dialect translated into the SSML subset espeak-ng honours.

What espeak-ng reads is rebuilt from the parsed tree, never copied from the input, so text
stays escaped and nothing outside the dialect (least of all `<audio>`, which espeak-ng
would read from the local disk) reaches the engine.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from voxform.errors import ItemError
from voxform.ice.limits import BREAK_MS, RATE, VOLUME
from voxform.ice.wire import Segment

MAX_DEPTH = 64  # elements inside elements; real documents nest three or four deep
EVENT_WORD, EVENT_SENTENCE, EVENT_END = 1, 2, 5  # espeak-ng's event types used for timing

_FULL_STOPS = ".!?\u2026\u3002\uff01\uff1f"
_OPENERS = "\"'(<[{\u00a1\u00bf\u00ab\u2018\u201c\u300c\u300e\uff08"
_CLOSERS = "\"')]}\u00bb\u2019\u201d\u300d\u300f\uff09"

_DROPPED = frozenset({"audio", "soundEvent"})  # media: never spoken, never fetched
_SAY_AS = {"characters": "characters", "telephone": "telephone", "digits": "tts:digits"}
_BREAK_TIME = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CJK = re.compile(
    "[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U0003134f]"
)
_SPACE = re.compile(r"\s+")
_MARKUP = re.compile(r"<[A-Za-z?!]")  # a document, not plain text that starts with "<3"


@dataclass(frozen=True)
class SpeakSettings:
    """What the `<speak>` element's attributes override (None: not given)."""

    voice: str | None = None
    rate: int | None = None
    pitch: int | None = None
    volume: int | None = None


@dataclass(frozen=True)
class Script:
    """One document ready for espeak-ng, with what is needed to time its sentences."""

    ssml: str  # what espeak-ng reads (espeakSSML | espeakCHARS_UTF8)
    text: str  # the displayed text, for segment contents
    # For each character of `text`, the offset in `ssml` of the last character it became
    # (`&` becomes `&amp;`), so a position anywhere inside it finds it.
    offsets: tuple[int, ...]
    mandarin: bool  # any CJK ideograph in what is spoken
    settings: SpeakSettings

    def segments(
        self, events: Sequence[tuple[int, int, float]], duration: float
    ) -> tuple[Segment, ...]:
        """Sentences timed by espeak-ng's (event type, 1-based text position, seconds) events.

        A sentence starts at each SENTENCE event, and also at a word that follows the end
        of a clause closed by a full stop: after a `<break>` espeak-ng goes on with the
        same sentence.
        """
        bounds: list[tuple[int, float]] = []
        after_clause = False
        for kind, position, seconds in events:
            index = self._word_start(bisect_left(self.offsets, position - 1))
            starts = kind == EVENT_SENTENCE or (
                kind == EVENT_WORD and after_clause and self._follows_full_stop(index)
            )
            if starts and (not bounds or index > bounds[-1][0]):
                bounds.append((index, min(max(seconds, 0.0), duration)))
            after_clause = kind == EVENT_END
        if not bounds:
            bounds.append((0, 0.0))
        # Text before the first event belongs to the first sentence.
        bounds[0] = (0, bounds[0][1])
        segments: list[Segment] = []
        for i, (index, start) in enumerate(bounds):
            following = bounds[i + 1] if i + 1 < len(bounds) else (len(self.text), duration)
            content = _SPACE.sub(" ", self.text[index : following[0]]).strip()
            end = max(following[1], start)
            if content:
                segments.append(Segment(content, round(start, 3), round(end, 3)))
            elif segments:  # a silent stretch (a break, an empty <s>) joins the sentence before
                segments[-1] = Segment(segments[-1].content, segments[-1].start, round(end, 3))
        return tuple(segments)

    def _word_start(self, index: int) -> int:
        """Move back over opening quotes and brackets glued to the word at `index`."""
        while index > 0 and self.text[index - 1] in _OPENERS:
            index -= 1
        return index

    def _follows_full_stop(self, index: int) -> bool:
        index -= 1
        while index >= 0 and (self.text[index].isspace() or self.text[index] in _CLOSERS):
            index -= 1
        return index >= 0 and self.text[index] in _FULL_STOPS


def translate(document: str) -> Script:
    """Translate an Alibaba SSML document, or plain text, for espeak-ng.

    Raises ItemError for a malformed document or invalid `<speak>` attributes.
    """
    head = document.lstrip("\ufeff \t\r\n")
    if not _MARKUP.match(head):
        root = ET.Element("speak")
        root.text = _CONTROL.sub(" ", head)
        return _Writer().script(root)
    if re.search(r"<!(DOCTYPE|ENTITY)", head, re.IGNORECASE):
        raise ItemError("SSML may not declare a DOCTYPE or entities", code="InvalidParameter")
    try:
        root = ET.fromstring(head)
    except (ET.ParseError, ValueError) as exc:  # ValueError: a lone surrogate
        raise ItemError(f"malformed SSML: {exc}", code="InvalidParameter") from exc
    if _local(root.tag) != "speak":
        raise ItemError(
            f"the SSML root element must be <speak>, not <{_local(root.tag)}>",
            code="InvalidParameter",
        )
    return _Writer().script(root)


class _Writer:
    """Builds the espeak-ng document and the displayed text side by side."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0  # characters written to parts so far
        self.text: list[str] = []
        self.offsets: list[int] = []
        self.spoken: list[str] = []
        self.pauses = 0
        self.said = False  # has espeak-ng been given anything to say yet

    def script(self, root: ET.Element) -> Script:
        settings = _settings(root)
        self.markup("<speak>")
        self.children(root)
        self.markup("</speak>")
        text = "".join(self.text)
        if not text.strip() and not self.pauses:
            raise ItemError("the SSML document has no text to speak", code="InvalidParameter")
        spoken = "".join(self.spoken)
        return Script(
            ssml="".join(self.parts),
            text=text,
            offsets=tuple(self.offsets),
            mandarin=_CJK.search(spoken) is not None,
            settings=settings,
        )

    def markup(self, markup: str) -> None:
        self.parts.append(markup)
        self.length += len(markup)

    def speak(self, text: str, *, shown: bool = True, spoken: bool = True) -> None:
        """Write text escaped, remembering where each displayed character went."""
        if spoken:
            self.spoken.append(text)
            self.said = self.said or bool(text.strip())
        if _ESCAPED.search(text) is None:  # as the loop below does it, in one step
            if shown:
                self.text.append(text)
                self.offsets.extend(range(self.length, self.length + len(text)))
            self.markup(text)
            return
        for char in text:
            escaped = _ESCAPES.get(char, char)
            if shown:
                self.text.append(char)
                self.offsets.append(self.length + len(escaped) - 1)
            self.markup(escaped)

    def gap(self) -> None:
        """A word boundary in the displayed text that espeak-ng does not see."""
        self.text.append(" ")
        self.offsets.append(self.length)

    def children(self, element: ET.Element, depth: int = 0) -> None:
        if depth >= MAX_DEPTH:
            raise ItemError(
                f"SSML elements nest more than {MAX_DEPTH} deep", code="InvalidParameter"
            )
        if element.text:
            self.speak(element.text)
        for child in element:
            self.element(child, depth + 1)
            if child.tail:
                self.speak(child.tail)

    def element(self, element: ET.Element, depth: int) -> None:
        tag = _local(element.tag)
        if tag in _DROPPED:
            return
        if tag == "break":
            self.gap()
            self.pauses += 1
            time = element.get("time")
            self.markup(f'<break time="{_break_ms(time)}ms"/>' if time else "<break/>")
            self.gap()
        elif tag == "s":
            self.gap()
            # espeak-ng opens <s> with a paragraph's pause: before anything was said that is
            # only silence. Its </s> (a full stop's pause) still ends the sentence.
            if self.said:
                self.markup("<s>")
            self.children(element, depth)
            self.markup("</s>")
            self.gap()
        elif tag == "sub":
            shown = "".join(element.itertext())
            alias = element.get("alias")
            if alias is None:
                self.speak(shown)
                return
            self.markup(f'<sub alias="{_attribute(alias)}">')
            self.spoken.append(alias)
            self.said = self.said or bool(alias.strip())
            self.speak(shown, spoken=False)
            self.markup("</sub>")
        elif tag == "say-as":
            kind = _SAY_AS.get((element.get("interpret-as") or "").strip().lower())
            if kind is None:
                self.speak("".join(element.itertext()))
                return
            self.markup(f'<say-as interpret-as="{kind}">')
            self.speak("".join(element.itertext()))
            self.markup("</say-as>")
        else:
            # <phoneme>, <w>, <emotion>, nested <speak> and anything unknown: the text only.
            self.children(element, depth)


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPED = re.compile("[&<>]")


def _attribute(value: str) -> str:
    escaped = "".join(_ESCAPES.get(char, char) for char in _CONTROL.sub(" ", value))
    return escaped.replace('"', "&quot;")


def _local(tag: str) -> str:
    """An element's name without its XML namespace."""
    return tag.rsplit("}", 1)[-1]


def _break_ms(time: str) -> int:
    match = _BREAK_TIME.fullmatch(time)
    if match is None:
        raise ItemError(
            f'<break time="{time}">: expected a duration like "2s" or "500ms"',
            code="InvalidParameter",
        )
    value = float(match.group(1)) * (1000 if match.group(2).lower() == "s" else 1)
    return min(round(value), BREAK_MS[1])


def _settings(root: ET.Element) -> SpeakSettings:
    voice = root.get("voice")
    return SpeakSettings(
        voice=(voice.strip() or None) if voice is not None else None,
        rate=_integer(root, "rate", RATE),
        pitch=_integer(root, "pitch", RATE),
        volume=_integer(root, "volume", VOLUME),
    )


def _integer(root: ET.Element, name: str, bounds: tuple[int, int]) -> int | None:
    low, high = bounds
    raw = root.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ItemError(
            f'<speak {name}="{raw}">: expected a whole number from {low} to {high}',
            code="InvalidParameter",
        )
    return value
