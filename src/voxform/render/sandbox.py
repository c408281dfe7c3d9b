"""The Jinja sandbox templates run in: immutable data, no randomness, and limits (limits.py)
on what a render may build, print and spend.

jinja2's SandboxedEnvironment guards attributes and calls; this adds what it leaves open.
The code generator (codegen.py) routes loops, comparisons, slices and `~` through hooks
here, `*`, `**`, `+` and `%` are intercepted, every filter and test is guarded (guards.py),
and printing anything but data is an error instead of an object's address.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, NoReturn

import jinja2
from jinja2.nodes import EvalContext
from jinja2.runtime import BlockReference, Context, LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

from voxform.errors import VoxformError
from voxform.render import limits
from voxform.render.codegen import REMOVED_FILTERS, SandboxCodegen
from voxform.render.guards import (
    check_binop,
    checked_str_method,
    guard_filter,
    guard_test,
    wrap_format,
)
from voxform.render.limits import SandboxLimit, TemplateFailure, printable

# Attributes a template may use on plain data; the rest (ljust, zfill, to_bytes, ...) can
# make a value far larger than its input, and no narration needs them.
_SAFE_ATTRIBUTES: dict[type, frozenset[str]] = {
    str: frozenset(
        {
            *("capitalize", "casefold", "count", "endswith", "find", "format", "format_map"),
            *("index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower"),
            *("isnumeric", "isspace", "istitle", "isupper", "join", "lower", "lstrip"),
            *("partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex"),
            *("rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip"),
            *("swapcase", "title", "upper", "striptags", "unescape"),
        }
    ),
    int: frozenset(("real", "imag", "numerator", "denominator", "bit_length", "is_integer")),
    float: frozenset(("real", "imag", "is_integer")),
    list: frozenset(("index", "count")),
    tuple: frozenset(("index", "count")),
    dict: frozenset(("items", "keys", "values", "get")),
    bytes: frozenset(),
}


@dataclass
class _Meter:
    """What one render has spent, and may."""

    step_limit: int
    char_limit: int
    steps: int = 0
    chars: int = 0


class Sandbox(ImmutableSandboxedEnvironment):
    """The environment every template runs in."""

    intercepted_binops = frozenset(("*", "**", "+", "%"))

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        self.code_generator_class = SandboxCodegen
        self.template_sizes: dict[str, int] = {}  # loaded templates' names and lengths
        self.steps_left = limits.RUN_STEPS
        self.excess_steps = 0  # steps renders took beyond ITEM_STEPS each (parallel.py)
        self.last_spent = (0, 0)  # the last render's steps and characters (shortcut.py)
        self.learnt: dict[str, object] = {}  # what shortcut.py learnt of each template
        self._meter: _Meter | None = None
        self._calls = 0  # macros and recursive loops running now
        self.globals.pop("lipsum", None)  # random words
        self.globals["range"] = _range
        for name in REMOVED_FILTERS:
            self.filters.pop(name, None)
        self.filters.update({n: guard_filter(self, n, f) for n, f in self.filters.items()})
        self.tests.update({n: guard_test(self, t) for n, t in self.tests.items()})

    # -- the meter ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def metered(self, text_length: int) -> Iterator[None]:
        """Count one render's steps and output (a template is compiled outside it)."""
        self.steps_left = min(self.steps_left + limits.ITEM_STEPS, limits.RUN_STEPS)
        meter = _Meter(
            min(limits.STEPS_PER_RENDER, self.steps_left), max(limits.MAX_CHARS, 4 * text_length)
        )
        self._meter = meter
        try:
            yield
        finally:
            self.steps_left -= meter.steps
            self.excess_steps += max(meter.steps - limits.ITEM_STEPS, 0)
            self.last_spent = (meter.steps, meter.chars)
            self._meter = None

    def charge(self, steps: int, chars: int = 0) -> None:
        """Spend `steps` and `chars` of output, refusing past the render's limits."""
        meter = self._meter
        if meter is None:
            return
        meter.steps += steps
        meter.chars += chars
        if meter.steps > meter.step_limit:
            if meter.step_limit < limits.STEPS_PER_RENDER:
                raise SandboxLimit(
                    f"the templates took more than {limits.RUN_STEPS:,} steps over all items "
                    f"(and {limits.ITEM_STEPS:,} more per item)"
                )
            raise SandboxLimit(
                f"the template took more than {limits.STEPS_PER_RENDER:,} steps (loop "
                "iterations, calls, and filters by the length of their input)"
            )
        if meter.chars > meter.char_limit:
            raise SandboxLimit(
                f"the template made more than {meter.char_limit:,} characters of output"
            )

    @property
    def char_limit(self) -> int:
        """The longest string the current render may make."""
        return self._meter.char_limit if self._meter else limits.MAX_CHARS

    def check_result(self, what: str, value: object) -> None:
        """Refuse a string or list that came out longer than allowed."""
        if isinstance(value, str):
            limits.check_string(what, len(value), self.char_limit)
        elif isinstance(value, (list, tuple)):
            limits.check_items(what, len(value))

    # -- hooks the compiled template calls ------------------------------------------------

    def printed(self, value: object) -> object:
        """What `{{ value }}` prints: data only, charged as output."""
        printable(value)
        if isinstance(value, str):
            limits.encodable(value)
        length = len(value) if isinstance(value, str) else limits.text_size(value)
        self.charge(1 + length // 64, length)
        return value

    def loop_items(self, iterable: Iterable[object], literal: int) -> Iterator[object]:
        """A loop's items, each charged a step and the text its body writes out."""
        for item in iterable:
            self.charge(1, literal)
            yield item

    def weigh(self, value: object) -> object:
        """An operand of a comparison (`in`, `==`, ...), charged for the items it walks."""
        self.charge(1 + limits.cost(value))
        return value

    def sliced(self, obj: Any, part: slice) -> Any:
        """`obj[a:b]`, a copy, charged for the items it walks."""
        self.charge(1 + limits.cost(obj))
        return obj[part]

    def joined(self, join: Callable[[Iterable[object]], str], parts: tuple[object, ...]) -> str:
        """`a ~ b`: both printable, the result within limits."""
        for part in parts:
            printable(part)
        length = sum(limits.text_size(part, self.char_limit) for part in parts)
        limits.check_string("'~'", length, self.char_limit)
        self.charge(1 + length // 64)
        return join(parts)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right, self.char_limit)
        self.charge(1 + limits.cost(left) + limits.cost(right))
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        if getattr(obj, "__self__", None) is self:  # our own hooks, as in loop_items
            return super().call(context, obj, *args, **kwargs)
        owner = getattr(obj, "__self__", None)
        self.charge(1 + len(args) + sum(map(limits.cost, (owner, *args, *kwargs.values()))))
        if isinstance(obj, (Macro, LoopContext, BlockReference)):
            return self._call_nested(context, obj, args, kwargs)
        if isinstance(owner, str) and getattr(obj, "__name__", "") in ("join", "replace"):
            args = checked_str_method(owner, obj.__name__, args, kwargs, self.char_limit)
        result = super().call(context, obj, *args, **kwargs)
        self.check_result(f"{getattr(obj, '__name__', 'the call')}()", result)
        return result

    def _call_nested(
        self,
        context: Context,
        obj: Macro | LoopContext | BlockReference,
        args: tuple[Any, ...],
        kwargs: Any,
    ) -> Any:
        """A macro, block or recursive loop: eager, so a counter knows how deep they are."""
        if self._calls >= limits.MAX_NESTING:
            if isinstance(obj, LoopContext):
                self._too_deep("a recursive loop")
            kind = "macro" if isinstance(obj, Macro) else "block"
            self._too_deep(f"{kind} {obj.name!r}; does it call itself?")
        self.charge(limits.MACRO_STEPS)
        if isinstance(obj, LoopContext) and args:
            args = (self.loop_items(args[0], 0), *args[1:])
        chars = self._meter.chars if self._meter else 0
        self._calls += 1
        try:
            result = super().call(context, obj, *args, **kwargs)
        finally:
            self._calls -= 1
        if self._meter and isinstance(result, str):  # what its body wrote outside loops
            self.charge(0, max(len(result) - (self._meter.chars - chars), 0))
        return result

    def _too_deep(self, what: str) -> NoReturn:
        raise SandboxLimit(f"templates nested more than {limits.MAX_NESTING} deep ({what})")

    def get_template(self, name: Any, parent: Any = None, globals: Any = None) -> Any:
        self._including(name)
        return super().get_template(name, parent, globals)

    def select_template(self, names: Any, parent: Any = None, globals: Any = None) -> Any:
        self._including(names)
        return super().select_template(names, parent, globals)

    def get_or_select_template(self, names: Any, parent: Any = None, globals: Any = None) -> Any:
        self._including(names)
        return super().get_or_select_template(names, parent, globals)

    def _including(self, name: object) -> None:
        """An include, import or extends while rendering: lazy, so the stack tells how many
        templates it is inside."""
        if self._meter is None:
            return
        depth = 0
        frame = inspect.currentframe()
        while frame is not None:
            depth += frame.f_code.co_filename in self.template_sizes
            frame = frame.f_back
        if depth >= limits.MAX_NESTING:
            self._too_deep(f"include of {name!r}; does it include itself?")
        self.charge(1, self.template_sizes.get(str(name), 0))

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        for kind, allowed in _SAFE_ATTRIBUTES.items():
            if isinstance(obj, kind):
                return attr in allowed
        return True

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        return wrap_format(self, self, value)


@jinja2.pass_eval_context
def _finalize(eval_ctx: EvalContext, value: object) -> object:
    # Taking the evaluation context keeps Jinja from printing constants while it compiles,
    # where it would escape an object's address before this could refuse it.
    env = eval_ctx.environment
    return env.printed(value) if isinstance(env, Sandbox) else value


def _range(*args: int) -> range:
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:  # more than fits a machine word
        count = limits.MAX_ITEMS + 1
    if count > limits.MAX_ITEMS:
        raise SandboxLimit(f"range() of more than {limits.MAX_ITEMS:,} numbers")
    return numbers


def render_template(env: SandboxedEnvironment, name: str, context: MutableMapping[str, Any]) -> str:
    """Render `name`, within the limits when `env` is a Sandbox; anything Python raises
    inside becomes a jinja2 TemplateError (or stays a TypeError, ValueError or
    ArithmeticError), so it never escapes as a traceback."""
    try:
        template = env.get_template(name)
    except (RecursionError, SyntaxError, MemoryError) as exc:
        raise jinja2.TemplateSyntaxError(
            f"the template nests too deeply to compile ({type(exc).__name__})", 1, name, name
        ) from None
    text = context.get("text")
    length = len(text) if isinstance(text, str) else 0
    with env.metered(length) if isinstance(env, Sandbox) else contextlib.nullcontext():
        try:
            output: str = template.render(context)
            return output
        except (jinja2.TemplateError, VoxformError, TypeError, ValueError, ArithmeticError):
            raise
        except RecursionError as exc:
            raise SandboxLimit("values or templates nested too deeply for Python").with_traceback(
                exc.__traceback__
            ) from None
        except Exception as exc:
            message = (
                f"{exc}" if isinstance(exc, AssertionError) else f"{type(exc).__name__}: {exc}"
            )
            raise TemplateFailure(message).with_traceback(exc.__traceback__) from None
