"""Templates run sandboxed and escape text; SSML is checked against Alibaba's dialect."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from conftest import Runner

BASE = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}, emo: {voice: zhitian_emo}}
    defaults: {voice: n}
    templates: {t: templates/t.ssml.j2}
    lexicon: [{match: SQL, alias: sequel}]
    items:
"""


def render(project, voxform: Runner, template: str, item: str) -> tuple[int, str]:
    """Exit code and output: the request as JSON on success, error lines otherwise."""
    root = project({"voxform.yaml": BASE + item, "templates/t.ssml.j2": template})
    result = voxform(root, "render", "a", "--json")
    if result.exit_code:
        result = voxform(root, "render", "a")
    return result.exit_code, result.output


def test_markup_characters_and_emoji_are_escaped_text(project, voxform: Runner) -> None:
    text = r"1 < 2 & 3 > 2, \"quoted\" " + "'single' 🎉 <break time='1s'/> SQL"
    item = f'      - id: a\n        template: t\n        text: "{text}"\n'
    code, out = render(project, voxform, "<speak>{{ text }}</speak>", item)
    assert code == 0, out
    ssml = json.loads(out)["ssml"]
    root = ElementTree.fromstring(ssml)
    assert [child.tag for child in root] == ["sub"]  # the lexicon's, never the text's <break>
    assert "1 < 2 & 3 > 2" in "".join(root.itertext())
    assert "🎉 <break time='1s'/>" in "".join(root.itertext())


def test_template_cannot_reach_python_internals(project, voxform: Runner) -> None:
    item = "      - {id: a, template: t, text: Hi.}\n"
    code, out = render(project, voxform, "<speak>{{ ''.__class__.__mro__ }}</speak>", item)
    assert code == 1
    assert (
        "templates/t.ssml.j2:1:14: error: template sandbox refused: access to attribute '__class__'"
        in out
    )


def test_undefined_variable_names_the_line_and_item(project, voxform: Runner) -> None:
    item = "      - {id: a, template: t, text: Hi.}\n"
    code, out = render(project, voxform, "<speak>\n{{ text }} {{ vars.missing }}</speak>", item)
    assert code == 1
    assert "templates/t.ssml.j2:2:20: error: undefined variable" in out and "(item 'a')" in out


def test_helpers_emit_valid_ssml(project, voxform: Runner) -> None:
    template = (
        "<speak>{{ pause(300) }}{{ say_as(vars.n, 'cardinal') }}{{ sub('W3C', 'w three c') }}"
        "{{ phoneme('重', 'chong2') }}</speak>"
    )
    item = "      - {id: a, template: t, text: Hi., vars: {n: 42}}\n"
    code, out = render(project, voxform, template, item)
    assert code == 0, out
    ssml = json.loads(out)["ssml"]
    assert ssml == (
        '<speak sampleRate="16000"><break time="300ms"/><say-as interpret-as="cardinal">42</say-as>'
        '<sub alias="w three c">W3C</sub><phoneme alphabet="py" ph="chong2">重</phoneme></speak>'
    )


def test_pause_out_of_range_is_an_error(project, voxform: Runner) -> None:
    item = "      - {id: a, template: t, text: Hi.}\n"
    code, out = render(project, voxform, "<speak>\n{{ pause(11000) }}</speak>", item)
    assert code == 1
    assert "templates/t.ssml.j2:2:1: error: template error: pause(11000)" in out


def test_emotion_needs_an_emotion_voice(project, voxform: Runner) -> None:
    template = '<speak><emotion category="happy" intensity="1.0">{{ text }}</emotion></speak>'
    plain = "      - {id: a, template: t, text: Hi.}\n"
    code, out = render(project, voxform, template, plain)
    assert code == 1 and "<emotion> needs a multi-emotion voice" in out
    emo = "      - {id: a, template: t, text: Hi., voice: emo}\n"
    code, out = render(project, voxform, template, emo)
    assert code == 0, out


def test_templates_see_no_clock_or_randomness(project, voxform: Runner) -> None:
    item = "      - {id: a, template: t, text: Hi.}\n"
    code, out = render(project, voxform, "<speak>{{ lipsum() }}</speak>", item)
    assert code == 1 and "undefined variable" in out
