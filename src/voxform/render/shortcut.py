"""Templates that only print the text between fixed parts, rendered without Jinja per item.

`<speak>{{ text }}{{ pause(300) }}</speak>` renders to the same characters for every item
but the text's: such a template (its whole body output of template data, `{{ text }}`
and helper calls with constant arguments, nothing else, no other variable) is rendered once
by the sandbox with a stand-in text, and each item's output is that render with its text in
place of the stand-in. The sandbox's meter is kept as the real render would keep it: a
print of the text costs 1 step per 64 characters and its characters, the rest what the
stand-in's render cost, and the run-wide budget is spent the same. When the text could
make the render fail (a limit, a lone surrogate), the item is rendered by Jinja after all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from jinja2 import nodes
from markupsafe import Markup

from voxform.render import limits
from voxform.render.sandbox import Sandbox, render_template

HELPERS: Final = frozenset({"pause", "say_as", "sub", "phoneme"})
_STAND_IN: Final = "\ue002voxform\ue003"


@dataclass(frozen=True)
class _Simple:
    parts: tuple[str, ...]  # the output around each print of the text
    steps: int  # what the stand-in's render cost, the stand-in's own prints taken out
    chars: int


def render_simple(
    env: Sandbox, name: str, text: str, context: Callable[[], Mapping[str, object]]
) -> str | None:
    """The output of template `name` for `text`, as render_template would make it, or None
    when the template is not one of these or this text must go through Jinja; `context`
    makes the render's variables, for the stand-in's render."""
    if not isinstance(text, Markup):  # a str would be escaped as it is printed
        return None
    learnt = env.learnt
    if name not in learnt:
        learnt[name] = _learn(env, name, context)
    simple = learnt[name]
    if not isinstance(simple, _Simple):
        return None
    count = len(simple.parts) - 1
    length = len(text)
    steps = simple.steps + count * (1 + length // 64)
    chars = simple.chars + count * length
    left = min(env.steps_left + limits.ITEM_STEPS, limits.RUN_STEPS)
    if steps > min(limits.STEPS_PER_RENDER, left) or chars > max(limits.MAX_CHARS, 4 * length):
        return None  # the real render names the limit, at its line
    try:
        limits.encodable(text)
    except limits.Unencodable:
        return None
    env.steps_left = left - steps
    env.excess_steps += max(steps - limits.ITEM_STEPS, 0)
    return str(text).join(simple.parts)


def _learn(env: Sandbox, name: str, context: Callable[[], Mapping[str, object]]) -> _Simple | None:
    """Whether `name` is such a template, and what its render costs besides the text."""
    try:
        source = env.loader.get_source(env, name)[0] if env.loader else None
        prints = _prints_of_text(env.parse(source)) if source is not None else None
        if not prints:
            return None
        saved = env.steps_left, env.excess_steps
        try:
            output = render_template(env, name, {**context(), "text": Markup(_STAND_IN)})
            steps, chars = env.last_spent
        finally:
            env.steps_left, env.excess_steps = saved
    except Exception:  # the real render tells what is wrong, item by item
        return None
    parts = tuple(output.split(_STAND_IN))
    if len(parts) - 1 != prints:
        return None
    each = 1 + len(_STAND_IN) // 64
    return _Simple(parts, steps - prints * each, chars - prints * len(_STAND_IN))


def _prints_of_text(tree: nodes.Template) -> int | None:
    """How many times the template prints `{{ text }}`, when its body is output only:
    template data, `{{ text }}`, and helpers called with constants; else None."""
    prints = 0
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for part in node.nodes:
            if isinstance(part, nodes.Name) and part.name == "text" and part.ctx == "load":
                prints += 1
            elif not isinstance(part, nodes.TemplateData) and not _constant_helper_call(part):
                return None
    return prints


def _constant_helper_call(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name in HELPERS
        and all(isinstance(a, nodes.Const) for a in node.args)
        and all(isinstance(k.value, nodes.Const) for k in node.kwargs)
        and node.dyn_args is None
        and node.dyn_kwargs is None
    )
