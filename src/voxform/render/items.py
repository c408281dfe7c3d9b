"""Items rendered into provider requests, or answered by the render cache (a RenderMemo):
the template engine (jinja2, render.py) is loaded only when some item must be rendered,
which a second plan, or one right after an apply, does for none."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Protocol

from voxform.errors import Problem
from voxform.manifest.model import Project
from voxform.render.model import Item, Prints, RenderedItem
from voxform.render.results import ItemResult


class RenderMemo(Protocol):
    """Where earlier renders are kept (a cache in .voxform/): `get_many` answers each item's
    result only when everything its render reads is what it was, else None."""

    def get_many(self, items: list[Item]) -> list[ItemResult | None]: ...

    def put(self, item: Item, result: ItemResult) -> ItemResult:
        """Learn `result`; the result to use (the same, perhaps with what the memo worked
        out of it once for all: its fingerprints)."""
        ...


def render_items(
    project: Project,
    items: list[Item],
    known: Mapping[str, str] = MappingProxyType({}),
    memo: RenderMemo | None = None,
    prints: Callable[[RenderedItem], Prints | None] | None = None,
) -> tuple[list[RenderedItem], list[Problem]]:
    """Render every item, in order; an over-long source chunk is split at sentence
    boundaries into parts whose ids reuse those in `known` (the lockfile's ids and chunk
    digests). With a memo, only the items it does not answer are rendered (in worker
    processes when they are many: the results are the same). With `prints`, each plain
    result rendered here carries the fingerprints it gives (model.py), worked out where
    the item is rendered: in a worker, not after it in this process."""
    results: list[ItemResult | None] = [None] * len(items) if memo is None else memo.get_many(items)
    misses = [i for i, result in enumerate(results) if result is None]
    if misses:
        from voxform.render.render import render_all

        def learnt(index: int, result: ItemResult) -> ItemResult:
            return result if memo is None else memo.put(items[misses[index]], result)

        fresh = render_all(project, [items[i] for i in misses], known, prints, learnt)
        for index, result in zip(misses, fresh, strict=True):
            results[index] = result
    rendered: list[RenderedItem] = []
    problems: list[Problem] = []
    for done in results:
        assert done is not None
        rendered.extend(done.rendered)
        problems.extend(done.problems)
    return rendered, problems
