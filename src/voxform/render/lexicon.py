"""The lexicon pass: words replaced by spoken aliases or phonemes before templating."""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape

from voxform.manifest.model import LexiconEntry


def _pattern(entry: LexiconEntry) -> re.Pattern[str]:
    body = re.escape(entry.match)
    # Whole words only where the match starts or ends with a word character.
    if re.match(r"\w", entry.match[0]):
        body = r"(?<!\w)" + body
    if re.match(r"\w", entry.match[-1]):
        body += r"(?!\w)"
    return re.compile(body, re.IGNORECASE if entry.ignore_case else 0)


def apply_lexicon(text: str, entries: Sequence[LexiconEntry]) -> Markup:
    """Escape `text` for XML and wrap each lexicon match in <sub> or <phoneme>."""
    if not entries:
        return escape(text)
    patterns = [_pattern(e) for e in entries]
    # Each entry's next match, searched again only once the text before it is consumed: every
    # pattern scans the text once, where searching all of them after each match was quadratic.
    upcoming = [p.search(text) for p in patterns]
    out: list[str] = []
    position = 0
    while True:
        best, match = -1, None  # the earliest match; on a tie, the entry listed first
        for index, candidate in enumerate(upcoming):
            if candidate is not None and (match is None or candidate.start() < match.start()):
                best, match = index, candidate
        if match is None:
            break
        out.append(escape(text[position : match.start()]))
        out.append(_markup(match.group(0), entries[best]))
        position = match.end()
        for index, pending in enumerate(upcoming):
            if pending is not None and pending.start() < position:
                upcoming[index] = patterns[index].search(text, position)
    out.append(escape(text[position:]))
    return Markup("".join(out))


def _markup(word: str, entry: LexiconEntry) -> str:
    if entry.alias is not None:
        return f'<sub alias="{escape(entry.alias)}">{escape(word)}</sub>'
    return (
        f'<phoneme alphabet="{escape(entry.alphabet)}" ph="{escape(entry.phoneme or "")}">'
        f"{escape(word)}</phoneme>"
    )
