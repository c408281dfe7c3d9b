"""Where an over-long chunk is cut into parts: content-defined, as in content-defined chunking.

Each sentence gets a level from a hash of its opening words. A run of sentences that does not fit is
cut after its highest-level sentence, and each side again, until every part fits (the
leaves of a Cartesian tree). A cut depends only on the sentences between the cuts around
it, never on positions or counts, so an edit changes the part it falls in and, when that
part grows past the limit or its strongest sentence changes, one neighbour; the other parts
keep their text and so their audio.

The level comes from a sentence's opening because an edit most often rewords the middle or
end of a sentence: its level, and so every cut, stays where it was. Sentences that open
alike are ordered by a hash of their whole text, and one repeated word for word by a hash
of its occurrence as well, so a text of one sentence repeated is cut into even parts.

A cut is never closer than a tenth of the budget to either end of its run when it can be
helped, so parts are not slivers.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate

FLOOR = 10  # a part is at least 1/FLOOR of the budget where the sentences allow
OPENING = 16  # characters of a sentence that decide its level


def levels(sentences: Sequence[str]) -> list[tuple[int, int]]:
    """A pseudo-random level per sentence: a hash of its opening, then one of its text and
    how often that text came before."""
    seen: dict[str, int] = {}
    result = []
    for sentence in sentences:
        count = seen.get(sentence, 0)
        seen[sentence] = count + 1
        opening = " ".join(sentence.split())[:OPENING]
        result.append((_hash(opening), _hash(f"{count}\0{sentence}")))
    return result


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def partition(
    sentences: Sequence[str],
    weights: Sequence[int],
    budget: int,
    fits: Callable[[int, int], bool],
) -> list[tuple[int, int]]:
    """Cut sentences [0, n) into runs [start, end) for which `fits` holds (or of one
    sentence); `weights` are their sizes, of which a part may hold about `budget`."""
    if not sentences:
        return []
    rank = levels(sentences)
    ends = [0, *accumulate(weights)]  # ends[i]: weight of the sentences before i
    floor = max(0, budget) // FLOOR
    result: list[tuple[int, int]] = []
    todo = [(0, len(sentences))]
    while todo:
        start, end = todo.pop()
        if end - start == 1 or fits(start, end):
            result.append((start, end))
            continue
        cut = _cut(rank, ends, start, end, floor)
        todo.append((cut, end))
        todo.append((start, cut))
    return result


def _cut(rank: list[tuple[int, int]], ends: list[int], start: int, end: int, floor: int) -> int:
    """Where to cut [start, end): after its highest-level sentence, among the cuts that
    leave at least `floor` on either side when there are any."""
    # A cut at c (start < c < end) leaves ends[c] - ends[start] before it.
    low = max(start + 1, bisect_left(ends, ends[start] + floor, start + 1, end))
    high = min(end - 1, bisect_right(ends, ends[end] - floor, start + 1, end) - 1)
    if low > high:
        low, high = start + 1, end - 1
    candidates = rank[low - 1 : high]
    return low + candidates.index(max(candidates))
