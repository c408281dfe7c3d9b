"""Guards around what a template calls: every filter and test, str methods that build text,
`str.format`, and the operators the sandbox intercepts. Each is charged to the render's meter
by the size of its input and checked before it builds something past a limit (limits.py)."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from jinja2.sandbox import SandboxedEnvironment, SandboxedFormatter
from markupsafe import EscapeFormatter, Markup

from voxform.render import limits
from voxform.render.limits import printable

# Filters that turn their input into text: an object given to them would print its address.
STRINGIFYING = frozenset(
    {
        *("capitalize", "center", "e", "escape", "forceescape", "format", "indent", "lower"),
        *("pprint", "replace", "safe", "string", "striptags", "title", "trim", "truncate"),
        *("upper", "urlencode", "wordcount", "wordwrap", "xmlattr", "tojson"),
    }
)


class Meter(Protocol):
    """What the guards charge: the sandbox's current render."""

    def charge(self, steps: int, chars: int = 0) -> None: ...

    @property
    def char_limit(self) -> int: ...

    def check_result(self, what: str, value: object) -> None: ...


def guard_filter(meter: Meter, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` charged by the size of its input, its arguments printable and checked."""
    passes = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0  # context first
    check = _FILTER_CHECKS.get(name)
    signature = inspect.signature(func) if check else None
    stringifies = name in STRINGIFYING

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        value = args[passes] if len(args) > passes else None
        meter.charge(1 + limits.cost(value))
        if stringifies:
            printable(value)
            length = limits.text_size(value, meter.char_limit)
            limits.check_string(f"|{name}", length, meter.char_limit)
        for extra in (*args[passes + 1 :], *kwargs.values()):
            printable(extra)
        if name == "join" and value is not None:
            joinable = _joinable(value, args[passes + 1 :], kwargs, meter.char_limit)
            args = (*args[:passes], joinable, *args[passes + 1 :])
        if check is not None and signature is not None:
            check(signature.bind(*args, **kwargs).arguments, meter.char_limit)
        result = func(*args, **kwargs)
        meter.check_result(f"|{name}", result)
        return result

    return guarded


def guard_test(meter: Meter, func: Any) -> Callable[..., Any]:
    """`func` charged by the size of what it looks at (`x is in(big)` walks big)."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        meter.charge(1 + sum(map(limits.cost, args)))
        return func(*args, **kwargs)

    return guarded


def check_binop(operator: str, left: Any, right: Any, char_limit: int) -> None:
    """Refuse `left operator right` when it would build past a limit."""
    if operator == "%" and isinstance(left, str):
        limits.check_printf(left, right, char_limit)
    elif operator == "*":
        _check_product(left, right, char_limit)
    elif operator == "**" and _is_int(left) and _is_int(right) and right > 0:
        limits.check_bits("**", max(abs(left).bit_length() - 1, 0) * right)
    elif operator == "+" and isinstance(left, (str, list, tuple)):
        both = len(left) + (len(right) if isinstance(right, (str, list, tuple)) else 0)
        if isinstance(left, str):
            limits.check_string("'+'", both, char_limit)
        else:
            limits.check_items("'+'", both)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_product(left: Any, right: Any, char_limit: int) -> None:
    if _is_int(left) and _is_int(right):
        limits.check_bits("*", left.bit_length() + right.bit_length())
        return
    sequence, times = (left, right) if _is_int(right) else (right, left)
    if isinstance(sequence, (str, list, tuple)) and _is_int(times):
        count = len(sequence) * max(times, 0)
        if isinstance(sequence, str):
            limits.check_string("'*'", count, char_limit)
        else:
            limits.check_items("'*'", count)


def checked_str_method(
    text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any], char_limit: int
) -> tuple[Any, ...]:
    """The arguments of `text.join(...)` or `text.replace(...)`, once the result is known to
    fit (join's iterable made a list, so it is walked once)."""
    if name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = args[2] if len(args) > 2 else kwargs.get("count")
        size = limits.replaced_size(text, args[0], args[1], count)
        limits.check_string("replace()", size, char_limit)
        return args
    if name == "join" and args:
        items = list(args[0])
        limits.check_items("join()", len(items))
        length = sum(len(i) if isinstance(i, str) else 0 for i in items)
        limits.check_string("join()", length + len(text) * max(len(items) - 1, 0), char_limit)
        return (items, *args[1:])
    return args


def _joinable(
    value: Any, rest: tuple[Any, ...], kwargs: Mapping[str, Any], char_limit: int
) -> list[Any]:
    """|join's items as a list, each printable, with the result's size checked."""
    items = list(value)
    limits.check_items("|join", len(items))
    if kwargs.get("attribute") is not None:
        return items
    printable(items)
    separator = str(rest[0] if rest else kwargs.get("d", ""))
    length = len(separator) * max(len(items) - 1, 0)
    for item in items:
        length += limits.text_size(item, char_limit - length)
        if length > char_limit:
            break
    limits.check_string("|join", length, char_limit)
    return items


def _check_replace(bound: Mapping[str, Any], char_limit: int) -> None:
    text, old, new = (str(bound.get(k, "")) for k in ("s", "old", "new"))
    size = limits.replaced_size(text, old, new, bound.get("count"))
    limits.check_string("|replace", size, char_limit)


def _check_indent(bound: Mapping[str, Any], char_limit: int) -> None:
    width = bound.get("width", 4)
    limits.check_width("indent width", width)
    text = str(bound.get("s", ""))
    step = len(width) if isinstance(width, str) else int(width)
    limits.check_string("|indent", len(text) + (text.count("\n") + 1) * step, char_limit)


def _check_wordwrap(bound: Mapping[str, Any], char_limit: int) -> None:
    limits.check_width("wrapstring length", str(bound.get("wrapstring") or ""))


def _check_format(bound: Mapping[str, Any], char_limit: int) -> None:
    args = bound.get("kwargs") or tuple(bound.get("args", ()))
    limits.check_printf(str(bound.get("value", "")), args, char_limit)


_FILTER_CHECKS: dict[str, Callable[[Mapping[str, Any], int], None]] = {
    "center": lambda b, _: limits.check_width("width", b.get("width", 80)),
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "batch": lambda b, _: limits.check_width("linecount", b.get("linecount"), limits.MAX_ITEMS),
    "slice": lambda b, _: limits.check_width("slices", b.get("slices"), limits.MAX_ITEMS),
    "tojson": lambda b, _: limits.check_width("indent", b.get("indent"), 16),
    "replace": _check_replace,
    "format": _check_format,
}


def wrap_format(env: SandboxedEnvironment, meter: Meter, value: Any) -> Callable[..., str] | None:
    """jinja2's wrap_str_format, with a formatter that checks widths, values and size."""
    if not isinstance(value, (types.MethodType, types.BuiltinMethodType)) or (
        value.__name__ not in ("format", "format_map")
    ):
        return None
    text = value.__self__
    if not isinstance(text, str):
        return None
    formatter = (
        _EscapeFormatter(env, meter, escape=text.escape)
        if isinstance(text, Markup)
        else _Formatter(env, meter)
    )
    is_map = value.__name__ == "format_map"

    def wrapper(*args: Any, **kwargs: Any) -> str:
        if is_map:
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one argument")
            return type(text)(formatter.vformat(text, (), args[0]))
        return type(text)(formatter.vformat(text, args, kwargs))

    return functools.update_wrapper(wrapper, value)


class _Formatter(SandboxedFormatter):
    """str.format fields: printable values, widths within MAX_WIDTH, the result in size."""

    def __init__(self, env: SandboxedEnvironment, meter: Meter, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.meter = meter
        self.length = 0

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self.length = len(format_string)
        return super().vformat(format_string, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        printable(value)  # before !r or !s turns it into text
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        printable(value)
        limits.check_format_spec(format_spec)
        limit = self.meter.char_limit
        limits.check_string("format()", self.length + limits.text_size(value, limit), limit)
        piece = super().format_field(value, format_spec)
        self.length += len(piece)
        limits.check_string("format()", self.length, self.meter.char_limit)
        return piece


class _EscapeFormatter(_Formatter, EscapeFormatter):
    pass
