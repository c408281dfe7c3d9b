"""A template that only prints the text between fixed parts is rendered once with a
stand-in; each item's output, and what the sandbox's meter spends, is what Jinja gives."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from jinja2.exceptions import TemplateError
from markupsafe import Markup, escape

from voxform.errors import VoxformError
from voxform.render.sandbox import render_template
from voxform.render.shortcut import render_simple
from voxform.render.templates import make_environment

TEMPLATES = {
    "plain": "<speak>{{ text }}</speak>\n",
    "pause": "<speak>{{ text }}{{ pause(300) }}</speak>\n",
    "twice": "<speak>\n  {{ text }} {{ say_as('12', 'digits') }} {{ text }}\n</speak>",
    "five": "{{ text }}{{ text }}{{ text }}{{ text }}{{ text }}",
    "none": "<speak>fixed {{ pause(50) }}</speak>",
    "filter": "<speak>{{ text|upper }}</speak>",
    "var": "<speak>{{ text }} {{ item.id }}</speak>",
    "bad": "<speak>{{ text }}{{ pause(1) }}</speak>",
    "loop": "<speak>{% for i in range(3) %}{{ text }}{% endfor %}</speak>",
}
TEXTS = [  # a lone surrogate and the limits: Jinja renders them, to say what is wrong
    "Hello.",
    "x" * 200,
    "a & b < c",
    "lone \ud800 surrogate",
    "y" * 300_000,  # five prints pass the character limit
    "z" * 2_000_000,
    "",
]


def _render(env, name: str, text: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return render_template(env, name, _context(text))
    except (TemplateError, VoxformError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _context(text: str) -> dict[str, object]:
    return {"text": Markup(escape(text)), "item": {"id": "i"}, "vars": {}, "voice": {}}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_a_simple_template_renders_what_jinja_renders(tmp_path: Path, name: str) -> None:
    for template, source in TEMPLATES.items():
        (tmp_path / template).write_text(source, "utf-8")
    jinja, shortcut = make_environment(tmp_path), make_environment(tmp_path)
    took = 0
    for text in TEXTS * 2:
        expected = _render(jinja, name, text)
        simple = render_simple(shortcut, name, Markup(escape(text)), partial(_context, text))
        took += simple is not None
        assert (_render(shortcut, name, text) if simple is None else simple) == expected
        assert (shortcut.steps_left, shortcut.excess_steps) == (
            jinja.steps_left,
            jinja.excess_steps,
        )
    assert took == {"plain": 12, "pause": 12, "twice": 12, "five": 8}.get(name, 0)
