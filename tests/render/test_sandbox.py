"""Templates run under limits: every refusal is one error at the template's line, exit 1.

A template comes with a pull request, and validate and plan run on pull requests, so a
template that hangs, eats memory, crashes or renders differently on every run must be
answered with an error. Cases that hung or ate memory before run in a subprocess with a
timeout and an address-space limit, a safety net only: nothing here is timed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Runner, bounded_validate

MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    defaults: {voice: n, template: t}
    templates: {t: templates/t.ssml.j2}
    items:
      - {id: a, text: "Hello there. How are you?", vars: {n: 3}}
"""


def make(project, template: str, **more: str) -> Path:
    return project({"voxform.yaml": MANIFEST, "templates/t.ssml.j2": template, **more})


def the_error(output: str) -> str:
    [line] = [line for line in output.splitlines() if ": error: " in line]
    return line


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('"%0999999999d" % 1', "format width 999999999 is over 1,000"),
        ('"{:>999999999}".format(1)', "format width 999999999 is over 1,000"),
        ('"a" * 1000000000', "a string of 1,000,000,000 characters, over 1,000,000"),
        ("[1, 2] * 1000000000", "a list of 2,000,000,000 items, over 100,000"),
        ("9 ** (9 ** 9)", "a number of more than 16,384 bits"),
        ('"x"|center(1000000000)', "width 1000000000 is over 1,000"),
        ("range(10 ** 30)|length", "range() of more than 100,000 numbers"),
        # One list shared 100,000 times: sorting or printing it walks ten billion numbers.
        ("([range(100000)|list] * 100000)|sort|length", "took more than 1,000,000 steps"),
        ("[range(100000)|list] * 100000", "more than 1,000,000 characters of output"),
        ("range(100)|join('y' * 100000)", "a string of 9,900,000 characters"),
        ("text|replace('', 'z' * 100000)", "a string of 2,600,025 characters"),
    ],
)
def test_growth_past_a_limit_is_refused_at_its_line(project, expression, message) -> None:
    root = make(project, "<speak>\n{{ " + expression + " }}</speak>")
    code, document = bounded_validate(root)
    assert code == 1
    [error] = document["errors"]
    assert (error["file"], error["line"], error["rule"]) == ("templates/t.ssml.j2", 2, "sandbox")
    assert message in error["message"]


def test_nested_loops_run_out_of_steps(project) -> None:
    template = (
        "<speak>{{ text }}\n"
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
        "</speak>"
    )
    code, document = bounded_validate(make(project, template))
    assert code == 1
    [error] = document["errors"]
    assert (error["file"], error["line"]) == ("templates/t.ssml.j2", 2)
    assert "took more than 1,000,000 steps" in error["message"]


def test_loops_that_print_too_much_are_stopped(project) -> None:
    template = "<speak>\n{% for i in range(100000) %}" + "word " * 2000 + "{% endfor %}</speak>"
    code, document = bounded_validate(make(project, template))
    assert code == 1
    [error] = document["errors"]
    assert (error["file"], error["line"]) == ("templates/t.ssml.j2", 2)
    assert "more than 1,000,000 characters of output" in error["message"]


def test_a_macro_calling_itself_is_stopped(project, voxform: Runner) -> None:
    template = "{% macro f(n) %}\n{{ f(n) }}{% endmacro %}<speak>{{ f(1) }}</speak>"
    result = voxform(make(project, template), "validate")
    assert result.exit_code == 1
    assert the_error(result.output).startswith(
        "templates/t.ssml.j2:2:1: error: template sandbox refused: templates nested more than "
        "32 deep (macro 'f'; does it call itself?)"
    )


def test_a_template_including_itself_is_stopped(project, voxform: Runner) -> None:
    template = "<speak>\n{% include 'templates/t.ssml.j2' %}</speak>"
    result = voxform(make(project, template), "validate")
    assert result.exit_code == 1
    assert the_error(result.output).startswith(
        "templates/t.ssml.j2:2:1: error: template sandbox refused: templates nested more than "
        "32 deep (include of 'templates/t.ssml.j2'; does it include itself?)"
    )


def test_a_block_calling_itself_is_stopped(project, voxform: Runner) -> None:
    template = "<speak>{% block b %}\n{{ self.b() }}{% endblock %}</speak>"
    result = voxform(make(project, template), "validate")
    assert result.exit_code == 1
    assert the_error(result.output).startswith(
        "templates/t.ssml.j2:2:1: error: template sandbox refused: templates nested more than "
        "32 deep (block 'b'; does it call itself?)"
    )


def test_includes_in_a_loop_count_the_text_they_bring(project) -> None:
    template = (
        "<speak>\n{% for i in range(1000) %}{% include 'templates/p.j2' %}{% endfor %}</speak>"
    )
    root = make(project, template, **{"templates/p.j2": "word " * 10_000})
    code, document = bounded_validate(root)
    assert code == 1
    [error] = document["errors"]
    assert (error["file"], error["line"]) == ("templates/t.ssml.j2", 2)
    assert "more than 1,000,000 characters of output" in error["message"]


def test_many_items_share_one_budget_of_steps(project, voxform: Runner) -> None:
    heavy = (
        "<speak>{{ text }}\n"
        "{% for i in range(100000) %}{% for j in range(100) %}{% endfor %}{% endfor %}</speak>"
    )
    manifest = MANIFEST.replace(
        "items:", "sources: [{id: s, glob: texts/*.txt, split: sentence}]\n    items:"
    )
    root = project(
        {
            "voxform.yaml": manifest,
            "templates/t.ssml.j2": heavy,
            "texts/a.txt": " ".join(f"Sentence {n}." for n in range(8)),
        }
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 9  # item a and eight sentences
    each = [e for e in errors if "the template took more than 1,000,000 steps" in e]
    shared = [e for e in errors if "the templates took more than 3,000,000 steps over all" in e]
    assert len(each) == 3 and len(shared) == 6, errors


def test_a_filter_given_a_bad_argument_is_an_error(project, voxform: Runner) -> None:
    result = voxform(make(project, "<speak>\n{{ text|truncate(-1) }}</speak>"), "validate")
    assert result.exit_code == 1
    assert the_error(result.output).startswith(
        "templates/t.ssml.j2:2:1: error: template error: expected length >= 3, got -1"
    )


def test_randomness_is_not_available(project, voxform: Runner) -> None:
    result = voxform(make(project, "<speak>\n{{ [1, 2, 3]|random }}</speak>"), "validate")
    assert result.exit_code == 1
    assert the_error(result.output) == (
        "templates/t.ssml.j2:2:1: error: template syntax error: the filter 'random' is not "
        "available: a template must render the same SSML every time"
    )


@pytest.mark.parametrize(
    ("expression", "what"),
    [
        ("pause", "the function 'pause'; call it"),
        ("cycler(1)", "a cycler; print its next() or current"),
        ("joiner(',')", "a joiner; call it"),
        ("namespace(a=1)", "a namespace; print one of its attributes"),
        ("text.upper", "the method 'upper'; call it"),
        ("[1, 2]|reverse", "an iterator; add |list or |join"),
        ("'x' ~ pause", "the function 'pause'; call it"),
        ("pause|string", "the function 'pause'; call it"),
        ("'%s' % pause", "the function 'pause'; call it"),
        ("'{}'.format(pause)", "the function 'pause'; call it"),
        ("'{!r}'.format(pause)", "the function 'pause'; call it"),
        ("[pause]|join", "the function 'pause'; call it"),
        ("say_as(pause, 'cardinal')", "the function 'pause'"),
    ],
)
def test_printing_an_object_is_an_error_not_its_address(
    project, voxform: Runner, expression: str, what: str
) -> None:
    template = "{% macro m() %}{% endmacro %}<speak>\n{{ " + expression + " }}</speak>"
    result = voxform(make(project, template), "validate")
    assert result.exit_code == 1
    error = the_error(result.output)
    assert error.startswith("templates/t.ssml.j2:2:1: error: "), error
    assert f"cannot print {what}" in error
    assert "0x" not in result.output


def test_printing_a_macro_itself_is_an_error(project, voxform: Runner) -> None:
    template = "{% macro m() %}{% endmacro %}<speak>\n{{ m }}</speak>"
    result = voxform(make(project, template), "validate")
    assert result.exit_code == 1
    assert "cannot print the macro 'm'; call it" in the_error(result.output)


def test_templates_within_the_limits_render_as_before(project, voxform: Runner) -> None:
    template = """
        {%- macro each(words) -%}
          {%- for w in words %}{{ w }}{% if not loop.last %} {{ pause(100) }} {% endif %}
          {%- endfor -%}
        {%- endmacro -%}
        {%- set c = cycler('a', 'b') -%}
        {%- set ns = namespace(total=0) -%}
        {%- for i in range(vars.n) %}{% set ns.total = ns.total + i %}{% endfor -%}
        <speak>{{ each(text.split()) }} {{ c.next() }}{{ c.next() }} {{ ns.total }}
        {{ [3, 1, 2]|sort|join(',') }} {{ '%03d' % 7 }} {{ '{:>4}'.format('x') }}
        {{ [1, 2]|reverse|list|join }} {{ 2 ** 10 }} {{ 'ab' * 3 }} {% include 'templates/p.j2' %}
        </speak>
    """
    root = make(project, template, **{"templates/p.j2": "{{ text|upper|truncate(9) }}"})
    result = voxform(root, "render", "a", "--json")
    assert result.exit_code == 0, result.output
    ssml = json.loads(result.output)["ssml"]
    assert 'Hello <break time="100ms"/> there.' in ssml
    assert "ab 3" in ssml and "1,2,3 007 x" in ssml and "21 1024 ababab HELLO..." in ssml


def test_an_oversized_template_is_refused(project, voxform: Runner) -> None:
    result = voxform(make(project, "<speak>" + "x" * 300_000 + "</speak>"), "validate")
    assert result.exit_code == 1
    assert "templates/t.ssml.j2 is 300,015 bytes; a template may hold at most 100,000" in (
        the_error(result.output)
    )


def test_a_template_nested_too_deeply_to_compile_is_an_error(project, voxform: Runner) -> None:
    result = voxform(
        make(project, "<speak>{{ " + "(" * 1000 + "1" + ")" * 1000 + " }}</speak>"), "validate"
    )
    assert result.exit_code == 1
    assert "templates/t.ssml.j2:1:1: error: template syntax error: " in the_error(result.output)
