"""The lexicon pass: the earliest match wins, the first entry on a tie, in one scan."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voxform.manifest.model import LexiconEntry
from voxform.render.lexicon import _markup, _pattern, apply_lexicon


def reference(text: str, entries: list[LexiconEntry]) -> str:
    """The definition, written the plain (quadratic) way: at each step, search every entry
    from where the last match ended and take the earliest."""
    out, position = [], 0
    while True:
        found = []
        for order, entry in enumerate(entries):
            match = _pattern(entry).search(text, position)
            if match:
                found.append((match.start(), order, match, entry))
        if not found:
            break
        _, _, match, entry = min(found, key=lambda f: (f[0], f[1]))
        out.append(str(apply_lexicon(text[position : match.start()], [])))
        out.append(_markup(match.group(0), entry))
        position = match.end()
    out.append(str(apply_lexicon(text[position:], [])))
    return "".join(out)


WORDS = ["SQL", "sql", "SQLite", "Postgres", "C++", "a", "&", "<x>", " ", ", ", ". "]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), max_size=40).map("".join),
    st.lists(
        st.tuples(st.sampled_from(["SQL", "sql", "Postgres", "C++", "a", "SQLite"]), st.booleans()),
        min_size=1,
        max_size=4,
    ),
)
def test_one_scan_gives_what_the_definition_gives(text: str, spec: list[tuple[str, bool]]) -> None:
    entries = [
        LexiconEntry(match=m, alias=f"alias-{i}", phoneme=None, alphabet="py", ignore_case=case)
        for i, (m, case) in enumerate(spec)
    ]
    assert str(apply_lexicon(text, entries)) == reference(text, entries)
