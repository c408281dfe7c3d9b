"""JSON that may be anything: a committed lockfile after a bad merge, a journal left by a
crash, a config file written by another tool.

json.loads would turn such bytes into tracebacks (a 5000-digit number, deep nesting, bytes
that are not UTF-8) or quietly into values nothing should hold (NaN, 1e999 read as infinity,
the later of two equal keys). `load_json` raises one `JsonProblem` for the first kind and reads
unusable numbers as `Unusable`, which no check accepts, so a refusal can quote the file.
"""

from __future__ import annotations

import json
import math
from typing import TypeGuard

SAFE_INTEGER = 1 << 53


class Unusable:
    """A JSON number no field can hold (NaN, 1e999, 5000 digits), as the file spells it."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _integer(text: str) -> int | Unusable:
    digits = len(text.lstrip("-"))
    return int(text) if digits <= 20 else Unusable(f"a {digits}-digit number")


def _number(text: str) -> float | Unusable:
    value = float(text)
    return value if math.isfinite(value) else Unusable(text)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return document


class JsonProblem(Exception):
    """Bytes that are not one JSON document; `line` and `column` when the reader knows them."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line, self.column = reason, line, column


def load_json(data: bytes) -> object:
    """One JSON document from UTF-8 bytes; unusable numbers as `Unusable`; JsonProblem for
    anything else (never a ValueError, RecursionError or UnicodeDecodeError)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        reason = f"is not UTF-8 text (byte 0x{data[exc.start]:02x})"
        raise JsonProblem(reason, line, column) from None
    try:
        return json.loads(
            text,
            parse_int=_integer,
            parse_float=_number,
            parse_constant=Unusable,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"is not valid JSON ({exc.msg})", exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonProblem("is nested too deeply to read") from None
    except _DuplicateKey as exc:
        raise JsonProblem(f"has the key {exc.key!r} twice") from None


def describe(value: object) -> str:
    """A JSON value as a refusal quotes it: short, on one line, never the whole of it."""
    if isinstance(value, Unusable):
        return value.literal
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    return "a list" if isinstance(value, list) else "an object"


def is_text(value: object) -> bool:
    """A string that can be written as UTF-8 (JSON escapes can spell lone surrogates)."""
    if not isinstance(value, str):
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_count(value: object) -> TypeGuard[int]:
    """A whole number from 0 to 2^53 (what JSON readers everywhere take exactly)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < SAFE_INTEGER


def is_seconds(value: object) -> bool:
    """A finite number, 0 or more (not a bool)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
