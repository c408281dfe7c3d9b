"""The emulator's identifiers: request ids, job ids and media ids, random version-4 UUIDs.

`uuid.uuid4()` reads the kernel's random source, a system call per id, and builds a UUID
object to format it: four ids per submission cost more than the job's state changes. These
come from one generator seeded from the kernel once, which is as unique (122 random bits)
and need be no harder to guess: the service's ids are names, not secrets.
"""

from __future__ import annotations

import random

_RANDOM = random.Random()  # seeded from os.urandom
# A version-4 UUID: version 4 in bits 76-79, the RFC 4122 variant (0b10) in bits 62-63.
_CLEAR = ~((0xF << 76) | (0x3 << 62))
_SET = (0x4 << 76) | (0x2 << 62)


def random_hex() -> str:
    """A new random UUID as 32 lower-case hex digits (what `uuid.uuid4().hex` spells)."""
    return f"{_RANDOM.getrandbits(128) & _CLEAR | _SET:032x}"


def request_id() -> str:
    """A new request id: a random UUID, upper case, with hyphens (as ICE spells them)."""
    h = f"{_RANDOM.getrandbits(128) & _CLEAR | _SET:032X}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
