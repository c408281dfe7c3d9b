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
from decimal import Decimal, localcontext

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
    if not old:  # what _keys gives then, 1 to n, without a Decimal each
        return [f"p{number}" for number in range(1, len(digests) + 1)]
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
    index = 0
    while index < len(result):  # each run of new chunks gets keys between its neighbours
        if result[index] is not None:
            index += 1
            continue
        end = index
        while end < len(result) and result[end] is None:
            end += 1
        low = result[index - 1] if index > 0 else None
        high = result[end] if end < len(result) else None
        result[index:end] = _fill(low, high, end - index, used)
        index = end
    return [k for k in result if k is not None]


def _fill(
    low: Decimal | None, high: Decimal | None, count: int, used: set[Decimal]
) -> list[Decimal]:
    """`count` keys in order, strictly between `low` and `high` (after `low` when there is no
    `high`), none of them `used`: whole numbers at the end, else the coarsest decimals that
    leave room for all of them (`p1.1` ... `p1.9`, or `p1.01` ... for more), so a key's length
    grows with the log of the chunks inserted, never with their count."""
    keys: list[Decimal] = []
    if high is None:
        candidate = (low.to_integral_value(rounding="ROUND_FLOOR") if low is not None else 0) + 1
        while len(keys) < count:
            if candidate not in used:
                keys.append(Decimal(candidate))
            candidate += 1
        return keys
    floor = low if low is not None else Decimal(0)
    with localcontext() as context:
        context.prec = 1000  # exact: a step never vanishes beside the floor
        step = Decimal(1)
        while len(keys) < count:
            step /= 10
            keys = []
            candidate = (floor // step + 1) * step  # the first multiple of step above floor
            while candidate < high and len(keys) < count:
                if candidate not in used:
                    keys.append(candidate)
                candidate += step
    return keys


def _format(key: Decimal) -> str:
    """`1.50` as `1.5`, `2` as `2`: exact at any length (normalize() would round a key of more
    than 28 digits to the context's precision)."""
    text = format(key, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
