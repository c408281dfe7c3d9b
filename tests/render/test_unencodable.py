"""A template that prints a lone surrogate (`'\\ud800'` is a valid Jinja string literal) is
one error naming the template and line, in every command: no text made of it could be
encoded as UTF-8 for a request, a digest or a subtitle, and it used to be a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner

MANIFEST = """\
version: 1
name: surrogates
targets:
  local: {provider: local, path: build/audio}
voices:
  narrator: {voice: siqi}
defaults: {voice: narrator, format: wav, sample_rate: 16000, target: local}
templates:
  t: templates/t.ssml.j2
items:
  - {id: i, text: Fish and chips., template: t}
"""

TEMPLATES = {
    "a literal": ("<speak>\n{{ text }}\n{{ '\\ud800' }}\n</speak>\n", 3, "U+D800"),
    "in sub()": ("<speak>{{ sub('\\ud800', 'x') }}</speak>\n", 1, "U+D800"),
    "joined to text": ("<speak>\n\n{{ text ~ '\\udc80' }}</speak>\n", 3, "U+DC80"),
    "from a format": ("<speak>\n{{ '%c' % 0xdfff }}</speak>\n", 2, "U+DFFF"),
    "in a macro": (
        "{% macro m() %}{{ 'a\\ud9ff' }}{% endmacro %}\n<speak>{{ m() }}</speak>\n",
        1,
        "U+D9FF",
    ),
}
COMMANDS = {
    "validate": ("validate",),
    "plan": ("plan",),
    "render": ("render", "i"),
    "apply": ("apply", "--yes"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", TEMPLATES)
def test_a_lone_surrogate_is_one_error_at_the_template_line(
    case: str,
    command: str,
    project: Callable[[dict[str, str]], Path],
    voxform: Runner,
) -> None:
    template, line, code_point = TEMPLATES[case]
    root = project({"voxform.yaml": MANIFEST, "templates/t.ssml.j2": template})

    result = voxform(root, *COMMANDS[command])

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [entry for entry in result.output.splitlines() if " error: " in entry]
    assert errors == [
        f"templates/t.ssml.j2:{line}:1: error: template error: printed a lone surrogate "
        f"({code_point}), which is not text and cannot be encoded as UTF-8 (item 'i')"
    ], result.output
    assert not (root / "build").exists()  # nothing was synthesized
