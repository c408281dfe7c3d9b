"""Alibaba's SSML dialect: what the service accepts, checked before anything is sent."""

from __future__ import annotations

import re
import xml.parsers.expat
from dataclasses import dataclass

from voxform.ice.limits import BREAK_MS, RATE, SAMPLE_RATES, VOLUME, spell_rates, within
from voxform.ice.wire import FORMATS

SPEAK_ATTRIBUTES = {
    "voice",
    "encodeType",
    "sampleRate",
    "rate",
    "pitch",
    "volume",
    "effect",
    "effectValue",
    "bgm",
    "backgroundMusicVolume",
}
EFFECTS = {"robot", "lolita", "lowpass", "echo", "eq", "lpfilter", "hpfilter"}
SAY_AS = {
    "cardinal",
    "digits",
    "telephone",
    "name",
    "address",
    "id",
    "characters",
    "punctuation",
    "date",
    "time",
    "currency",
    "measure",
}
TAGS: dict[str, set[str]] = {
    "speak": SPEAK_ATTRIBUTES,
    "break": {"time"},
    "s": set(),
    "sub": {"alias"},
    "w": set(),
    "phoneme": {"alphabet", "ph"},
    "say-as": {"interpret-as"},
    "emotion": {"category", "intensity"},
    "soundEvent": {"src"},
}
UNSUPPORTED = {
    "prosody": "ICE does not support <prosody>: set speech_rate, pitch_rate or volume on the "
    "voice, or rate/pitch/volume on <speak>",
    "emphasis": "ICE does not support <emphasis>: choose a voice or an <emotion> instead",
    "voice": "ICE does not support <voice>: give the item another voice in the manifest",
    "audio": 'ICE does not support <audio>: use <soundEvent src="..."/> with a WAV on OSS',
    "mark": "ICE does not support <mark>",
    "p": "ICE does not support <p>: use <s> for sentences",
    "lang": "ICE does not support <lang>: choose a voice for the language",
}
_BREAK = re.compile(r"^(\d+)(ms|s)$")
_PINYIN = re.compile(r"^[a-zü]+[1-5]$")


@dataclass(frozen=True)
class SsmlIssue:
    """One thing the service would reject, at a 1-based line and column of the document."""

    message: str
    line: int
    column: int
    snippet: str  # text to look for in the template, to point at its source
    warning: bool = False  # outside our tables, not known to be rejected: the service decides


def speak_attributes(document: str) -> dict[str, str]:
    """Attributes of the root <speak> element (empty when it cannot be parsed)."""
    found: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if not found and name == "speak":
            found.update(attrs)

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    try:
        parser.Parse(document, True)
    except xml.parsers.expat.ExpatError:
        return {}
    return found


def check_ssml(document: str, *, emotions: bool) -> list[SsmlIssue]:
    """Every construct in `document` that Alibaba's SSML dialect rejects (errors), and those
    outside the tables of ICE.md that the service may still take (warnings naming the table):
    Alibaba's own examples use say-as values its reference does not list."""
    if "<!DOCTYPE" in document or "<!ENTITY" in document:
        return [SsmlIssue("SSML must not contain a DOCTYPE or entity declarations", 1, 1, "<!")]
    issues: list[SsmlIssue] = []
    depth = 0
    parser = xml.parsers.expat.ParserCreate()

    def add(message: str, snippet: str, *, warning: bool = False) -> None:
        line, column = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
        issues.append(SsmlIssue(message, line, column, snippet, warning))

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        snippet = f"<{name}"
        if depth == 1 and name != "speak":
            add(f"the document must be one <speak> element, not <{name}>", snippet)
        if name == "speak" and depth > 1:
            add("<speak> cannot be nested", snippet)
        if name in UNSUPPORTED:
            add(UNSUPPORTED[name], snippet)
            return
        if name not in TAGS:
            known = ", ".join(f"<{t}>" for t in TAGS)
            add(f"<{name}> is not in ICE's SSML tag table ({known})", snippet, warning=True)
            return
        for attr in attrs:
            if attr not in TAGS[name]:
                allowed = ", ".join(sorted(TAGS[name])) or "none"
                add(
                    f"<{name}> attribute {attr!r} is not in ICE's table (listed: {allowed})",
                    snippet,
                    warning=True,
                )
        kind = attrs.get("interpret-as")
        if name == "say-as" and kind not in SAY_AS:
            add(
                f"<say-as interpret-as={kind!r}> is not in ICE's say-as table "
                f"({', '.join(sorted(SAY_AS))})",
                _snippet(name, attrs),
                warning=True,
            )
        for message in _check_values(name, attrs, emotions):
            add(message, _snippet(name, attrs))

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(document, True)
    except xml.parsers.expat.ExpatError as exc:
        issues.append(
            SsmlIssue(
                f"not well-formed SSML: {xml.parsers.expat.ErrorString(exc.code)}",
                exc.lineno,
                exc.offset + 1,
                "",
            )
        )
    return issues


def _snippet(name: str, attrs: dict[str, str]) -> str:
    for key, value in attrs.items():
        return f'{key}="{value}"'
    return f"<{name}"


def _check_values(name: str, attrs: dict[str, str], emotions: bool) -> list[str]:
    problems: list[str] = []
    if name == "break":
        time = attrs.get("time", "")
        match = _BREAK.match(time)
        if not match:
            problems.append(f'<break time="{time}"> must be whole seconds ("2s") or ms ("500ms")')
        else:
            value, unit = int(match.group(1)), match.group(2)
            ms = value * 1000 if unit == "s" else value
            if not within(ms, BREAK_MS):
                problems.append(
                    f'<break time="{time}"> is out of range: ICE allows 50ms to 10s '
                    "(split a longer pause into several breaks)"
                )
    elif name == "sub" and "alias" not in attrs:
        problems.append("<sub> needs an alias attribute")
    elif name == "phoneme":
        alphabet, ph = attrs.get("alphabet"), attrs.get("ph", "")
        if alphabet not in ("py", "cmu"):
            problems.append(f'<phoneme alphabet="{alphabet}"> must be "py" or "cmu"')
        elif alphabet == "py" and not all(_PINYIN.match(s) for s in ph.split()):
            problems.append(f'<phoneme ph="{ph}">: pinyin syllables need a tone digit 1-5')
    elif name == "emotion":
        if not emotions:
            problems.append(
                "<emotion> needs a multi-emotion voice (*_emo, e.g. zhitian_emo); on this "
                "voice the job fails"
            )
        try:
            intensity = float(attrs.get("intensity", "1"))
        except ValueError:
            intensity = -1
        if not 0.01 <= intensity <= 2.0:
            problems.append("<emotion intensity> must be between 0.01 and 2.0")
    elif name == "speak":
        problems.extend(_check_speak(attrs))
    elif name == "soundEvent" and not attrs.get("src", "").startswith(("http://", "https://")):
        problems.append("<soundEvent src> must be the URL of a WAV file on OSS")
    return problems


def _check_speak(attrs: dict[str, str]) -> list[str]:
    problems = []
    ranges = {"rate": RATE, "pitch": RATE, "volume": VOLUME, "backgroundMusicVolume": VOLUME}
    for key, (low, high) in ranges.items():
        if key in attrs:
            try:
                ok = low <= int(attrs[key]) <= high
            except ValueError:
                ok = False
            if not ok:
                problems.append(f"<speak {key}> must be an integer from {low} to {high}")
    if "encodeType" in attrs and attrs["encodeType"].lower() not in FORMATS:
        problems.append("<speak encodeType> must be PCM, WAV or MP3")
    if "sampleRate" in attrs and attrs["sampleRate"] not in {str(r) for r in SAMPLE_RATES}:
        problems.append(f"<speak sampleRate> must be {spell_rates()}")
    if "effect" in attrs and attrs["effect"] not in EFFECTS:
        problems.append(f"<speak effect> must be one of {', '.join(sorted(EFFECTS))}")
    return problems


def spoken_text(document: str) -> str:
    """The text a listener hears: character data, with <sub> aliases in place of their text."""
    parts: list[str] = []
    skip = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal skip
        if name == "sub":
            parts.append(attrs.get("alias", ""))
            skip += 1

    def end(name: str) -> None:
        nonlocal skip
        if name == "sub":
            skip -= 1

    def data(text: str) -> None:
        if not skip:
            parts.append(text)

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(document, True)
    except xml.parsers.expat.ExpatError:
        return document
    return re.sub(r"\s+", " ", "".join(parts)).strip()


_TOKEN = re.compile(r"""(<(?:[^>"']|"[^"]*"|'[^']*')*>)""")
_BLOCK = re.compile(r"</?(?:speak|s)(?:\s[^>]*)?>")
# Runs that are not already one space: re.sub makes a string per match, a hundred bytes per
# word of a long text if every single space matched.
_WHITESPACE = re.compile(r"[\t\r\n][ \t\r\n]*| [ \t\r\n]+")


def canonical_ssml(document: str) -> str:
    """SSML that speaks the same, spelt one way: whitespace in text collapsed to one space,
    and none beside `<speak>` and `<s>` boundaries (where it cannot be heard). A template's
    indentation or line breaks then change neither the request nor the fingerprint."""
    parts = _TOKEN.split(document)
    out: list[str] = []
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            out.append(part)
            continue
        text = _WHITESPACE.sub(" ", part)
        if index > 0 and _BLOCK.fullmatch(parts[index - 1]):
            text = text.lstrip(" ")
        if index + 1 < len(parts) and _BLOCK.fullmatch(parts[index + 1]):
            text = text.rstrip(" ")
        out.append(text)
    return "".join(out).strip()
