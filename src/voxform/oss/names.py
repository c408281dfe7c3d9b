"""OSS's naming rules, in one home: which bucket names and object keys the service takes.

A bucket is 3 to 63 lower-case letters, digits and hyphens, starting and ending with a
letter or digit (the manifest schema's `bucket` pattern says the same; a test keeps them
equal). A key is UTF-8 text of 1 to 1,023 bytes that does not start with `/` or `\\`.
"""

from __future__ import annotations

import re

BUCKET_PATTERN = r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]"
BUCKET = re.compile(BUCKET_PATTERN)
MAX_KEY_BYTES = 1023


def bucket_problem(name: str) -> str | None:
    """Why `name` is not a bucket name OSS accepts, or None when it is one."""
    if BUCKET.fullmatch(name):
        return None
    return (
        f"{name!r} is not a valid OSS bucket name (3-63 lower-case letters, digits and"
        " hyphens, not starting or ending with a hyphen)"
    )


def key_problem(key: str) -> str | None:
    """Why `key` is not an object key OSS accepts, or None when it is one."""
    if not key:
        return "an object key must not be empty"
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        return f"the object key {key!r} is not valid UTF-8 text"
    if size > MAX_KEY_BYTES:
        return f"the object key is {size} bytes long; OSS takes at most {MAX_KEY_BYTES}"
    if key.startswith(("/", "\\")):
        return f"the object key {key!r} starts with {key[0]!r}"
    return None


_BUCKETS: dict[str, bool] = {}  # bucket_ok's answers, for the few buckets of a lockfile


def bucket_ok(name: str) -> bool:
    """`bucket_problem(name) is None`, each name's answer kept (100,000 object names of a
    lockfile lie in a few buckets)."""
    good = _BUCKETS.get(name)
    if good is None:
        good = bucket_problem(name) is None
        if len(_BUCKETS) < 256:
            _BUCKETS[name] = good
    return good


def key_ok(key: str) -> bool:
    """`key_problem(key) is None`, an ASCII key measured as it is, without encoding it."""
    if key.isascii():
        return 0 < len(key) <= MAX_KEY_BYTES and key[0] not in "/\\"
    return key_problem(key) is None
