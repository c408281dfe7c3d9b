"""Reading plain YAML values: a mapping, a list, a string or an integer, or a fallback.

The schema has already reported anything of the wrong type; these keep the model builder
from tripping over it.
"""

from __future__ import annotations

from voxform.manifest.yamlpos import KeyPath


def has_bad(bad: set[KeyPath], prefix: KeyPath) -> bool:
    return any(path[: len(prefix)] == prefix for path in bad)


def as_dict(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def as_int(value: object, fallback: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback
