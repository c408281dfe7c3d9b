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
    patterns = [(_pattern(e), e) for e in entries]
    out: list[str] = []
    position = 0
    while position < len(text):
        best: tuple[re.Match[str], LexiconEntry] | None = None
        for pattern, entry in patterns:
            match = pattern.search(text, position)
            if (
                match
                and match.end() > match.start()
                and (best is None or match.start() < best[0].start())
            ):
                best = (match, entry)
        if best is None:
            break
        match, entry = best
        out.append(escape(text[position : match.start()]))
        out.append(_markup(match.group(0), entry))
        position = match.end()
    out.append(escape(text[position:]))
    return Markup("".join(out))


def _markup(word: str, entry: LexiconEntry) -> str:
    if entry.alias is not None:
        return f'<sub alias="{escape(entry.alias)}">{escape(word)}</sub>'
    return (
        f'<phoneme alphabet="{escape(entry.alphabet)}" ph="{escape(entry.phoneme or "")}">'
        f"{escape(word)}</phoneme>"
    )
