"""What a template may do: the limits of the sandbox, stated once, and the checks that apply
them before a value is built (a limit checked after would already have spent the memory).

A template comes with a pull request and runs in validate and plan, so each limit is far
above what narration needs and far below what would slow a run: a template that passes one
gets one sentence naming the limit, at its line.
"""

from __future__ import annotations

import datetime
import re
import types
from collections.abc import Mapping
from typing import Final

from jinja2.exceptions import SecurityError, TemplateRuntimeError
from jinja2.runtime import LoopContext, Macro, Undefined
from jinja2.utils import Cycler, Joiner, Namespace

MAX_CHARS: Final = 1_000_000  # a string or a render's output, or 4 times the text if longer
MAX_ITEMS: Final = 100_000  # a list, a range
MAX_WIDTH: Final = 1_000  # a format width or precision, center() and indent() widths
MAX_INT_BITS: Final = 16_384  # a number made by * or **: about 4,900 digits
MAX_NESTING: Final = 32  # macros, includes and recursive loops inside each other
# Steps: a loop iteration, a call, an operator, and one per item a filter or comparison walks
# (limits.cost); a macro call counts MACRO_STEPS. A million steps take about a second.
STEPS_PER_RENDER: Final = 1_000_000
RUN_STEPS: Final = 3_000_000  # all renders of a run, beside ITEM_STEPS for each
ITEM_STEPS: Final = 1_000
MACRO_STEPS: Final = 10

_PRINTABLE = (str, int, float, type(None), datetime.date, datetime.time, bytes)


class SandboxLimit(SecurityError):
    """A template went past one of the sandbox's limits."""


class NotPrintable(TemplateRuntimeError):
    """A template printed something that is not data: its text would be an object's
    address, different on every run."""


class Unencodable(TemplateRuntimeError):
    """A template printed a lone surrogate (`'\\ud800'`): not text UTF-8 can carry, so no
    request, digest or subtitle could be made of it."""


class TemplateFailure(TemplateRuntimeError):
    """Python failed inside a template (a filter's own assertion, a missing key, ...)."""


def printable(value: object) -> None:
    """Raise NotPrintable unless `value` is text, a number or lists and mappings of them."""
    stack = [value]
    seen: set[int] = set()  # [[big] * 1000] * 1000 holds one big list, not a million
    while stack:
        current = stack.pop()
        if isinstance(current, (*_PRINTABLE, Undefined)):
            continue  # an Undefined raises its own error when printed
        if isinstance(current, (list, tuple, dict)):
            if id(current) not in seen:
                seen.add(id(current))
                stack.extend(current.items() if isinstance(current, dict) else current)
        else:
            raise NotPrintable(f"cannot print {_describe(current)}")


def _describe(value: object) -> str:
    name = getattr(value, "name", None) or getattr(value, "__name__", "")
    if isinstance(value, Macro):
        return f"the macro {name!r}; call it, as in {name}(...)"
    if isinstance(value, Cycler):
        return "a cycler; print its next() or current"
    if isinstance(value, Joiner):
        return "a joiner; call it"
    if isinstance(value, Namespace):
        return "a namespace; print one of its attributes"
    if isinstance(value, LoopContext):
        return "the loop variable; print one of its attributes, such as loop.index"
    if isinstance(value, (types.MethodType, types.BuiltinMethodType)) and isinstance(
        getattr(value, "__self__", None), (str, int, float, list, dict, tuple)
    ):
        return f"the method {name!r}; call it, as in {name}()"
    if isinstance(value, type):
        return f"the type {name!r}"
    if callable(value):
        return f"the function {name!r}; call it, as in {name}(...)"
    if hasattr(value, "__next__"):
        return "an iterator; add |list or |join"
    return f"a {type(value).__name__} object; print one of its values"


_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> None:
    """Raise Unencodable when `text` holds a lone surrogate."""
    if not text.isascii() and (found := _SURROGATE.search(text)) is not None:
        raise Unencodable(
            f"printed a lone surrogate (U+{ord(found.group()):04X}), which is not text and "
            "cannot be encoded as UTF-8"
        )


def text_size(value: object, limit: int = MAX_CHARS) -> int:
    """About how many characters `value` prints as, counted no further than past `limit`."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        current = stack.pop()
        if isinstance(current, str):
            total += len(current)
        elif isinstance(current, int):
            bits = current.bit_length()
            total += len(str(current)) if bits < 64 else bits * 3 // 10 + 2
        elif isinstance(current, (list, tuple)):
            total += 2 * len(current) + 2
            stack.extend(current)
        elif isinstance(current, dict):
            total += 4 * len(current) + 2
            stack.extend(current.keys())
            stack.extend(current.values())
        else:
            total += 24
    return total


def cost(value: object, cap: int = STEPS_PER_RENDER + 1) -> int:
    """Steps to charge for work over `value`: one per item of a collection and of each
    collection in it, as sorting or comparing walks them all (counted no further than `cap`),
    and one per 64 characters of text, which C handles."""
    if isinstance(value, (str, bytes)):
        return len(value) // 64
    if isinstance(value, range):
        return len(value)
    total = 0
    stack = [value]
    while stack and total < cap:
        current = stack.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, (list, tuple, set, frozenset)):
            total += len(current)
            stack.extend(x for x in current if isinstance(x, (list, tuple, dict)))
    return total


def check_string(what: str, length: int, limit: int) -> None:
    """Refuse a string of `length` characters over `limit`."""
    if length > limit:
        raise SandboxLimit(f"{what} would make a string of {length:,} characters, over {limit:,}")


def check_items(what: str, count: int) -> None:
    """Refuse a list of `count` items over MAX_ITEMS."""
    if count > MAX_ITEMS:
        raise SandboxLimit(f"{what} would make a list of {count:,} items, over {MAX_ITEMS:,}")


def check_width(what: str, value: object, limit: int = MAX_WIDTH) -> None:
    """Refuse a width (a number, or the length of a string used as one) over `limit`."""
    width = len(value) if isinstance(value, str) else value
    if isinstance(width, int) and width > limit:
        raise SandboxLimit(f"{what} {width} is over {limit:,}")


def check_bits(operator: str, bits: int) -> None:
    """Refuse a number of more than MAX_INT_BITS bits."""
    if bits > MAX_INT_BITS:
        raise SandboxLimit(f"'{operator}' would make a number of more than {MAX_INT_BITS:,} bits")


_PRINTF = re.compile(r"%(?:\(([^)]*)\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?(.?)")
_SPEC_NUMBERS = re.compile(r"\d+")


def check_printf(fmt: str, args: object, limit: int) -> None:
    """`fmt % args` within limits: widths and precisions, printable values, result size."""
    values = args if isinstance(args, tuple) else (args,)
    total = len(fmt)
    position = 0
    for match in _PRINTF.finditer(fmt):
        key, width, precision, conversion = match.groups()
        if conversion == "%":
            continue
        for number in (width, precision):
            if number == "*":
                raise SandboxLimit("'*' widths are not allowed in a format; write the number")
            check_width("format width", int(number or 0))
        if key is not None and isinstance(args, Mapping):
            value = args.get(key)
        else:
            value = values[position] if position < len(values) else None
            position += 1
        printable(value)
        total += text_size(value, limit - total) + int(width or 0) + int(precision or 0)
        check_string("'%'", total, limit)
    check_string("'%'", total, limit)


def check_format_spec(spec: str) -> None:
    """A `str.format` field's spec within MAX_WIDTH (`{:>999999999}` is refused)."""
    for number in _SPEC_NUMBERS.findall(spec):
        check_width("format width", int(number))


def replaced_size(text: str, old: str, new: str, count: object = None) -> int:
    """The length of `text.replace(old, new, count)`, without making it."""
    occurrences = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        occurrences = min(occurrences, count)
    return len(text) + occurrences * (len(new) - len(old))
