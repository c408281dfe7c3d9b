"""The SSML helpers escape their text exactly once, whether autoescape handed it over as
Markup (`text`) or it is a plain string (vars, literals): `&` is spoken as "and", never
as "amp", and the subtitles show the words as written."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner

TEXT = "Fish & chips <3 > \"q\" 'a'"
ESCAPED = "Fish &amp; chips &lt;3 &gt; &#34;q&#34; &#39;a&#39;"
ALIAS = "R & B <x> \"y\" 'z'"

MANIFEST = """\
version: 1
name: escaping
targets:
  local: {provider: local, path: build/audio}
voices:
  narrator: {voice: siqi}
defaults: {voice: narrator, format: wav, sample_rate: 16000, target: local}
templates:
  t: templates/t.ssml.j2
items:
  - id: i
    text: "Fish & chips <3 > \\"q\\" 'a'"
    template: t
    vars: {alias: "R & B <x> \\"y\\" 'z'", word: "F & C"}
"""

CASES = {
    "say_as": (
        "{{ say_as(text, 'characters') }}",
        f'<say-as interpret-as="characters">{ESCAPED}</say-as>',
        ("say-as", TEXT, {"interpret-as": "characters"}),
        TEXT,
    ),
    "sub": (
        "{{ sub(text, vars.alias) }}",
        f'<sub alias="R &amp; B &lt;x&gt; &#34;y&#34; &#39;z&#39;">{ESCAPED}</sub>',
        ("sub", TEXT, {"alias": ALIAS}),
        TEXT,
    ),
    "sub with text as the alias": (
        "{{ sub(vars.word, text) }}",
        f'<sub alias="{ESCAPED}">F &amp; C</sub>',
        ("sub", "F & C", {"alias": TEXT}),
        "F & C",
    ),
    "phoneme": (
        "{{ phoneme(text, 'yu2') }}",
        f'<phoneme alphabet="py" ph="yu2">{ESCAPED}</phoneme>',
        ("phoneme", TEXT, {"alphabet": "py", "ph": "yu2"}),
        TEXT,
    ),
}


@pytest.fixture
def escaping(project: Callable[[dict[str, str]], Path]) -> Callable[[str], Path]:
    def make(template: str) -> Path:
        return project(
            {"voxform.yaml": MANIFEST, "templates/t.ssml.j2": f"<speak>{template}</speak>\n"}
        )

    return make


@pytest.mark.parametrize("case", CASES)
def test_a_helper_escapes_its_text_once_in_the_ssml(
    case: str, escaping: Callable[[str], Path], voxform: Runner
) -> None:
    template, markup, (tag, words, attributes), _ = CASES[case]
    root = escaping(template)

    result = voxform(root, "render", "i")

    assert result.exit_code == 0, result.output
    ssml = json.loads(result.output)["ssml"]
    assert ssml == f'<speak sampleRate="16000">{markup}</speak>'
    assert "&amp;amp;" not in ssml and "&amp;lt;" not in ssml
    element = ET.fromstring(ssml)[0]  # what the service reads: each value once unescaped
    assert (element.tag, element.text, element.attrib) == (tag, words, attributes)


@pytest.mark.parametrize("case", CASES)
def test_a_helpers_words_reach_the_subtitles_as_written(
    case: str, escaping: Callable[[str], Path], voxform: Runner
) -> None:
    template, _, _, shown = CASES[case]
    root = escaping(template)

    result = voxform(root, "apply", "--yes")

    assert result.exit_code == 0, result.output
    srt = (root / "build/audio/i.srt").read_text("utf-8")
    vtt = (root / "build/audio/i.vtt").read_text("utf-8")
    assert srt.rstrip("\n").endswith(f"\n{shown}"), srt
    # WebVTT escapes & < > in cue text itself, once.
    cue = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert vtt.rstrip("\n").endswith(f"\n{cue}"), vtt
    assert "amp;amp;" not in vtt and "&amp;" not in srt


def test_lexicon_markup_in_text_stays_markup_inside_a_helper(
    project: Callable[[dict[str, str]], Path], voxform: Runner
) -> None:
    manifest = MANIFEST.replace("items:", "lexicon:\n  - {match: SQL, alias: sequel}\nitems:")
    manifest = manifest.replace("Fish & chips <3 > \\\"q\\\" 'a'", "SQL & more")
    root = project(
        {
            "voxform.yaml": manifest,
            "templates/t.ssml.j2": "<speak>{{ say_as(text, 'characters') }}"
            "{{ sub(vars.word, text) }}</speak>\n",
        }
    )

    result = voxform(root, "render", "i")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ssml"] == (
        '<speak sampleRate="16000"><say-as interpret-as="characters">'
        '<sub alias="sequel">SQL</sub> &amp; more</say-as>'
        '<sub alias="SQL &amp; more">F &amp; C</sub></speak>'
    )
