"""Chunk ids that survive edits: `p1`, `p2`, and `p2.5` for a chunk inserted between them;
likewise `p3-1`, `p3-2` and `p3-1.5` for the parts of a chunk over the input limit.

A pure function of the chunks' digests and the ids the lockfile knows, so an edited
paragraph keeps its id and no other chunk's id (or fingerprint) moves.

A part's lockfile chunk is `<its chunk's digest>/<its own digest>`: the first keeps its
chunk's id in place, the second its own.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from decimal import Decimal

_PART = re.compile(r"^p(\d+(?:\.\d+)?)(?:-\d+(?:\.\d+)?)?$")
_KEY = re.compile(r"^\d+(?:\.\d+)?$")


def align(prefix: str, digests: list[str], known: Mapping[str, str]) -> list[str]:
    """Chunk keys (`p1`, `p2.5`, ...) for a file, reusing the keys the lockfile knows.

    Unchanged chunks keep their key; a chunk edited in place inherits the key of the one it
    replaces; an inserted chunk gets a key between its neighbours, so no other key moves.
    """
    old: dict[Decimal, str] = {}
    for item_id, chunk_digest in known.items():
        if not item_id.startswith(prefix + "/"):
            continue
        match = _PART.match(item_id[len(prefix) + 1 :])
        if match:
            old.setdefault(Decimal(match.group(1)), chunk_digest.split("/", 1)[0])
    return [f"p{_format(k)}" for k in _keys(old, digests)]


def part_chunk(chunk: str | None, text_digest: str) -> str:
    """The lockfile chunk of a part: its chunk's digest and its own."""
    return text_digest if chunk is None else f"{chunk}/{text_digest}"


def align_parts(item_id: str, digests: list[str], known: Mapping[str, str]) -> list[str]:
    """Part keys (`1`, `2`, `1.5`, ...) for the parts of item `item_id`, reusing the keys
    the lockfile knows for them, in the same way as `align` does for chunks."""
    old: dict[Decimal, str] = {}
    for known_id, chunk in known.items():
        key = known_id[len(item_id) + 1 :]
        if known_id.startswith(item_id + "-") and "/" in chunk and _KEY.match(key):
            old[Decimal(key)] = chunk.split("/", 1)[1]
    return [_format(k) for k in _keys(old, digests)]


def _keys(old: Mapping[Decimal, str], digests: list[str]) -> list[Decimal]:
    if not old:
        return [Decimal(i) for i in range(1, len(digests) + 1)]
    old_keys = sorted(old)
    old_digests = [old[k] for k in old_keys]
    result: list[Decimal | None] = [None] * len(digests)
    matcher = difflib.SequenceMatcher(a=old_digests, b=digests, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or tag == "replace":
            for offset in range(min(i2 - i1, j2 - j1)):
                result[j1 + offset] = old_keys[i1 + offset]
    used = set(old_keys)
    for index, key in enumerate(result):
        if key is not None:
            continue
        low = next((result[i] for i in range(index - 1, -1, -1) if result[i] is not None), None)
        high = next(
            (result[i] for i in range(index + 1, len(result)) if result[i] is not None), None
        )
        new = _between(low, high, used)
        result[index] = new
        used.add(new)
    return [k for k in result if k is not None]


def _between(low: Decimal | None, high: Decimal | None, used: set[Decimal]) -> Decimal:
    if high is None:
        candidate = (
            low.to_integral_value(rounding="ROUND_FLOOR") if low is not None else Decimal(0)
        ) + 1
        while candidate in used:
            candidate += 1
        return candidate
    floor = low if low is not None else Decimal(0)
    step = Decimal(1)
    while True:
        step /= 10
        candidate = floor + step
        # the coarsest decimal strictly between the neighbours that is not taken
        while candidate < high:
            if candidate > floor and candidate not in used:
                return candidate
            candidate += step


def _format(key: Decimal) -> str:
    text = format(key.normalize(), "f")
    return text
