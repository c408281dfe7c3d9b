"""A template's output is checked once per shape (the text between the same fixed parts):
the answers are those of checking each output as it is."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from voxform.render.document import check_document
from voxform.render.ssml import canonical_ssml, check_ssml, speak_attributes, spoken_text

SHAPES = [
    ("<speak>", "</speak>"),
    ("<speak>", '<break time="300ms"/></speak>'),
    ('<speak sampleRate="24000">\n  <s>', "</s>\n</speak>"),
    ("<speak>  ", "  <s>tail</s> </speak>"),
    ('<speak><sub alias="', '">x</sub></speak>'),
    ('<speak><sub alias="a">', "</sub></speak>"),
    ('<speak><say-as interpret-as="', '">1</say-as></speak>'),
    ('<speak><break time="', '"/></speak>'),
    ('<speak><phoneme alphabet="py" ph="', '">x</phoneme></speak>'),
    ('<speak><emotion category="happy" intensity="', '">x</emotion></speak>'),
    ('<speak voice="', '">x</speak>'),
    ("<speak><!-- ", " --></speak>"),
    ("<speak><![CDATA[", "]]></speak>"),
    ("<speak>a]", "]></speak>"),
    ("<speak>", "]></speak>"),
    ("<speak>&amp;", "</speak>"),
    ("<speak><prosody>", "</prosody></speak>"),
    ("<speak><unknown>", "</unknown></speak>"),
    ("<speak>", ""),
    ("<speak><s>", "<s></speak>"),
    ("<speak>\ue000voxform\ue001", "</speak>"),
]
texts = st.lists(
    st.one_of(
        st.sampled_from([*"ab Zé中 .,!?&<>\"'][\t\n\r\x01\u00a0\u2028", "]]", "  ", "ni3"]),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=20,
).map("".join)


@settings(max_examples=600)
@given(shape=st.sampled_from(SHAPES), raw=texts, emotions=st.booleans(), markup=st.booleans())
def test_a_document_is_checked_as_its_shape_tells(
    shape: tuple[str, str], raw: str, emotions: bool, markup: bool
) -> None:
    text = str(escape(raw)) if markup else raw.strip()
    output = shape[0] + text + shape[1]
    document = check_document(output, text, emotions=emotions)
    assert document.issues == tuple(check_ssml(output, emotions=emotions))
    declared = speak_attributes(output).get("sampleRate")
    assert document.declared == declared
    if document.canonical is not None:
        assert document.canonical == canonical_ssml(output)
    if document.spoken is not None:
        canonical = canonical_ssml(output)
        final = canonical if declared else canonical.replace("<speak", '<speak sampleRate="1"', 1)
        assert document.spoken == len(spoken_text(final))


def test_plain_text_between_fixed_parts_is_worked_out_once() -> None:
    first = check_document(
        "<speak>Hello &amp; welcome.</speak>", "Hello &amp; welcome.", emotions=False
    )
    assert (first.canonical, first.spoken) == ("<speak>Hello &amp; welcome.</speak>", 16)
    spaced = check_document("<speak>a  b</speak>", "a  b", emotions=False)
    assert (spaced.canonical, spaced.spoken) == (None, None)  # checked as it is
