"""Frozen dataclasses made in bulk: 100,000 items, requests and changes in one plan.

A frozen dataclass's `__init__` sets each field through `object.__setattr__`, which costs
more than everything else a plan does with most of its values (a change of 13 fields: some
5 microseconds, against 1 for the same value made here). `maker(cls)` gives a function that
makes a `cls` from every field's value, in order, without it: the same value, equal and
hashed alike, as `cls(*values)` makes. Only for classes with no `__post_init__` (nothing is
skipped) and no default factory (every value is given).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def maker(cls: type[T]) -> Callable[..., T]:
    """A function of every field's value (positional, in order) making a `cls`."""
    if not is_dataclass(cls) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a dataclass made by its fields alone")
    names = tuple(f.name for f in fields(cls))
    # One statement per field: a loop over them costs twice as much. The code is made of
    # the field names alone (identifiers); a missing or extra value is a TypeError.
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = [f"def make({', '.join(f'_{n}' for n in names)}):", "    value = new(cls)"]
    if "__slots__" in vars(cls):
        for number, name in enumerate(names):
            namespace[f"set{number}"] = getattr(cls, name).__set__  # the slot's descriptor
            lines.append(f"    set{number}(value, _{name})")
    else:
        # The instance's dict given whole, through the `__dict__` descriptor of the class
        # that has it: a fifth cheaper than filling the dict Python makes on first reading.
        namespace["own"] = _dict_setter(cls)
        spelt = ", ".join(f"{name!r}: _{name}" for name in names)
        lines.append(f"    own(value, {{{spelt}}})")
    lines.append("    return value")
    exec("\n".join(lines), namespace)
    made: Callable[..., T] = namespace["make"]
    return made


def _dict_setter(cls: type) -> Callable[[Any, dict[str, Any]], None]:
    """The setter of the `__dict__` of a `cls` (a frozen dataclass refuses the attribute)."""
    for klass in cls.__mro__:
        found = vars(klass).get("__dict__")
        if found is not None:
            setter: Callable[[Any, dict[str, Any]], None] = found.__set__
            return setter
    raise TypeError(f"{cls.__name__} has no __dict__")


def keyword_maker(cls: type[T]) -> Callable[[dict[str, Any]], T]:
    """A function of a dict of field values (names of fields only: the caller checked
    them), the fields it leaves out at their defaults, making a `cls` that has no slots."""
    if not is_dataclass(cls) or hasattr(cls, "__post_init__") or "__slots__" in vars(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass made by its fields alone")
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    factories = tuple(
        (f.name, f.default_factory) for f in fields(cls) if f.default_factory is not MISSING
    )
    required = frozenset(
        f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING
    )
    new = object.__new__

    def make(values: dict[str, Any]) -> T:
        if not required <= values.keys():
            raise TypeError(f"{cls.__name__} needs {sorted(required - values.keys())}")
        value: T = new(cls)
        spelt = value.__dict__
        spelt.update(defaults)
        for name, factory in factories:
            if name not in values:
                spelt[name] = factory()
        spelt.update(values)
        return value

    return make
