"""Sandboxed Jinja2 (sandbox.py) with strict undefineds, XML autoescaping and SSML helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from voxform.errors import PathEscapeError, VoxformError
from voxform.ice.limits import BREAK_MS, spell, within
from voxform.paths import inside
from voxform.render.dependencies import MAX_TEMPLATE_BYTES
from voxform.render.limits import NotPrintable, SandboxLimit, printable
from voxform.render.sandbox import Sandbox
from voxform.render.ssml import SAY_AS

PLAIN_TEMPLATE = "<speak>{{ text }}</speak>\n"


class HelperError(VoxformError):
    """A template helper was called with a value the SSML dialect does not allow."""


class _ProjectLoader(jinja2.BaseLoader):
    """Loads templates by project-relative path, never outside the project root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sources: dict[str, str] = {}  # what was loaded, to point problems at lines

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template == "<plain>":
            if isinstance(environment, Sandbox):
                environment.template_sizes[template] = len(PLAIN_TEMPLATE)
            return PLAIN_TEMPLATE, "<plain>", lambda: True
        try:
            path = inside(self.root, template)
        except PathEscapeError as exc:
            raise jinja2.TemplateNotFound(f"{template} ({exc})") from exc
        if not path.is_file():
            raise jinja2.TemplateNotFound(template)
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise SandboxLimit(
                f"{template} is {size:,} bytes; a template may hold at most {MAX_TEMPLATE_BYTES:,}"
            )
        source = path.read_text("utf-8")
        self.sources[template] = source
        if isinstance(environment, Sandbox):
            environment.template_sizes[template] = len(source)
        mtime = path.stat().st_mtime
        return source, template, lambda: path.stat().st_mtime == mtime


def pause(ms: int) -> Markup:
    """A <break> of `ms` milliseconds (50..10000)."""
    if not isinstance(ms, int) or isinstance(ms, bool) or not within(ms, BREAK_MS):
        raise HelperError(f"pause({ms!r}): ICE allows {spell(BREAK_MS)} ms")
    return Markup(f'<break time="{ms}ms"/>')


def _text(helper: str, text: object) -> Markup:
    """`text` as element content, escaped once: autoescape hands `text` over as Markup,
    already escaped (escaping its str again spoke "amp"), while vars and literals are str."""
    try:
        printable(text)
    except NotPrintable as exc:
        raise HelperError(f"{helper}(...): {exc}") from None
    return escape(text)


def _attribute(helper: str, value: object) -> Markup:
    """`value` as an attribute, escaped once: Markup is read as the text it shows (a
    lexicon's tags cannot go inside an attribute), a str as written."""
    if isinstance(value, Markup):
        value = value.striptags()
    return _text(helper, value)


def say_as(text: object, kind: str) -> Markup:
    """Text read as a number, date, telephone number, ... (<say-as>)."""
    if kind not in SAY_AS:
        raise HelperError(f"say_as(..., {kind!r}): interpret-as must be one of {sorted(SAY_AS)}")
    return Markup(f'<say-as interpret-as="{kind}">{_text("say_as", text)}</say-as>')


def sub(text: object, alias: str) -> Markup:
    """Text shown as written but spoken as `alias` (<sub>)."""
    spoken = _attribute("sub", alias)
    return Markup(f'<sub alias="{spoken}">{_text("sub", text)}</sub>')


def phoneme(text: object, ph: str, alphabet: str = "py") -> Markup:
    """Text pronounced as `ph` in pinyin (py) or CMU phones (cmu)."""
    if alphabet not in ("py", "cmu"):
        raise HelperError(f"phoneme(..., alphabet={alphabet!r}): use 'py' or 'cmu'")
    sounds, written = _attribute("phoneme", ph), _text("phoneme", text)
    return Markup(f'<phoneme alphabet="{alphabet}" ph="{sounds}">{written}</phoneme>')


def make_environment(root: Path) -> Sandbox:
    """The one Jinja environment templates run in: sandboxed, strict and deterministic."""
    env = Sandbox(
        loader=_ProjectLoader(root.resolve()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        auto_reload=False,
    )
    env.globals.update(pause=pause, say_as=say_as, sub=sub, phoneme=phoneme)
    return env


def template_source(env: jinja2.Environment, name: str) -> str | None:
    """The text of a template `env` has loaded, or None."""
    loader = env.loader
    return loader.sources.get(name) if isinstance(loader, _ProjectLoader) else None
