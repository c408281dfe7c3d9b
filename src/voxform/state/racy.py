"""When a file's stat may vouch for what it holds: git's "racily clean" rule, the one rule of
every cache that trusts a stat (the stat cache, the source cache, the render cache's note).

A write in the same clock tick as a file's last change leaves its size and times as they
were. So a stat vouches for a file only when the file's last change is a clock tick older
than the moment that stat was taken together with the bytes or digest it vouches for (for a
cache, at the latest its writing): a change after that moment then shows as a later time.

File times come from the kernel's coarse clock, which counts a jiffy (1 to 10 ms) on Linux:
a stamp with a part below the millisecond comes from such a clock, and SETTLE_NS is past its
tick. A stamp in whole milliseconds (or seconds) may come from a coarser clock, or a file
system storing coarse times: RACY_NS is past any tick of those.
"""

from __future__ import annotations

from collections.abc import Iterable

RACY_NS = 2_000_000_000  # past any file system's clock tick (FAT's is 2 s)
SETTLE_NS = 12_000_000  # past a tick of a clock counting 100 times a second, or finer
_MS = 1_000_000


def unsettled(stamps: Iterable[int]) -> int:
    """From when a stat of a file last changed at `stamps` (its mtime, ctime, ...; a
    negative one is none) vouches for it: SETTLE_NS after the last of them, RACY_NS when
    none has a part below the millisecond."""
    found = [stamp for stamp in stamps if stamp >= 0]
    fine = any(stamp % _MS for stamp in found)
    return max(found, default=0) + (SETTLE_NS if fine else RACY_NS)


def settled(mtime_ns: int, since_ns: int) -> bool:
    """Whether the stat of a file last changed at `mtime_ns` vouches for what was learnt of
    it (its bytes read, or written) at `since_ns` or later."""
    return mtime_ns + (SETTLE_NS if mtime_ns % _MS else RACY_NS) < since_ns
