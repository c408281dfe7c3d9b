"""An item's result, and what a worker process sends of it (render/parallel.py).

Nearly every result is plain: one request for the item itself, no warning, no problem. A
worker sends of it only what its render made (the request's input, the characters it
speaks, five digests, the input as spelt before canonical SSML) and its fingerprints, as a
plain tuple of strings and numbers, which pickles fast; the parent puts the rest together
again from the item and its settings (assemble.py) with the functions the render uses, so
both are the same values. Any other result travels whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from voxform.errors import Problem
from voxform.frozen import maker
from voxform.manifest.model import Project
from voxform.render.assemble import made_of, remade_plain, with_prints
from voxform.render.model import Item, Prints, RenderedItem

if TYPE_CHECKING:  # the sandbox loads jinja2, which a plan rendering nothing never needs
    from voxform.render.sandbox import Sandbox


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item rendered: its requests (several when it was cut into parts) and what the
    checks found, warnings included, in the order they were found."""

    rendered: tuple[RenderedItem, ...]
    problems: tuple[Problem, ...]


item_result = maker(ItemResult)  # ItemResult without its __init__ (voxform/frozen.py)


_Render: TypeAlias = Callable[[Project, "Sandbox", Item, Mapping[str, str]], ItemResult]


def printing(
    render_item: _Render,
    prints: Callable[[RenderedItem], Prints | None],
) -> _Render:
    """`render_item`, its plain results with their fingerprints."""

    def render(project: Project, env: Sandbox, item: Item, known: Mapping[str, str]) -> ItemResult:
        result = render_item(project, env, item, known)
        if result.problems or len(result.rendered) != 1 or result.rendered[0].warnings:
            return result
        found = prints(result.rendered[0])
        return (
            result if found is None else item_result((with_prints(result.rendered[0], found),), ())
        )

    return render


# What a worker sends of a plain result (parallel.py): the request's input, the characters
# it speaks, the five core digests, the input before canonical SSML (None: the same), the
# fingerprints (or None). Strings and numbers only, in a plain tuple: pickled fast.
_Plain = tuple[str, int, str, str, str, str, str, "str | None", "Prints | None"]


def packed(result: ItemResult) -> ItemResult | _Plain:
    """What a worker sends of an item's result: for one request without problems, only
    what its render made and its fingerprints (assemble.py puts the rest together again)."""
    if result.problems or len(result.rendered) != 1 or result.rendered[0].warnings:
        return result
    made = made_of(result.rendered[0])
    final, core, legacy = made.final, made.core, made.legacy
    spelt = None if legacy is final else legacy
    return (final, made.characters, *core, spelt, result.rendered[0].prints)


def unpacked(project: Project, packed: object, item: Item) -> ItemResult:
    if type(packed) is tuple:
        final, characters, source, text, ssml, output, location, legacy, prints = packed
        core = (source, text, ssml, output, location)
        spelt = final if legacy is None else legacy
        return item_result(
            (remade_plain(project, item, final, characters, core, spelt, prints),), ()
        )
    assert isinstance(packed, ItemResult)
    return packed
