"""YAML loading that remembers where every key and value came from, within limits.

Manifests arrive in pull requests and validate runs on them, so no file may make it hang or
crash: nesting is bounded while the file is composed, a file may not expand through aliases
past a budget of values (a "billion laughs" is refused before anything is built), control
characters and values Python cannot hold are refused, and each refusal is one Problem at
the place it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Final, Protocol

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from voxform.errors import Location, Problem

KeyPath = tuple[str | int, ...]

MAX_DEPTH: Final = 32  # mappings and sequences inside each other, aliases followed
# Keys, values and list entries in all of a project's manifests, each alias's counted again:
# 20,000 items written out, which validate checks in a few seconds. More items come from
# `sources:`.
MAX_VALUES: Final = 100_000

_MAX_INT_BITS: Final = 13_000  # Python prints no int of more than 4,300 digits
_MERGE = "tag:yaml.org,2002:merge"
_VALUE_KEY = "tag:yaml.org,2002:value"
_NOT_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


@dataclass
class Document:
    """A parsed YAML file: plain data plus the position of each key and value."""

    file: str
    data: object
    values: dict[KeyPath, Location] = field(default_factory=dict)
    keys: dict[KeyPath, Location] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: KeyPath, *, key: bool = False) -> Location:
        """The location of the value (or key) at `path`, or of its nearest ancestor."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if not key and probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Location(self.file, 1, 1))


class _Mark(Protocol):
    """A place in the text, from PyYAML or libyaml (0-based)."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...


@dataclass
class ValueBudget:
    """What is left of MAX_VALUES for the files still to be read."""

    left: int = MAX_VALUES


class _Refused(Exception):
    """A limit this file passes; carries the Problem's place and sentence."""

    def __init__(self, mark: _Mark | None, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _Composer(Composer):
    """PyYAML's composer, refusing nesting past MAX_DEPTH before it can exhaust the stack,
    and naming each anchored node so refusals can say which anchor they mean."""

    peek_event: Callable[[], yaml.Event]  # from the parser it is mixed with

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.anchor_names: dict[int, str] = {}

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()
        collection = isinstance(event, yaml.CollectionStartEvent)
        if collection:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Refused(event.start_mark, _too_deep())
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= collection
        anchor = getattr(event, "anchor", None)
        if anchor is not None and node is not None and not isinstance(event, yaml.AliasEvent):
            self.anchor_names[id(node)] = anchor
        return node


if yaml.__with_libyaml__:  # libyaml scans and parses five times faster; we compose
    from yaml._yaml import CParser

    class _Loader(_Composer, CParser, SafeConstructor, Resolver):
        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML without libyaml

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        _Composer,
        SafeConstructor,
        Resolver,
    ):
        def __init__(self, text: str) -> None:
            yaml.reader.Reader.__init__(self, text)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            _Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


def _loc(file: str, mark: _Mark | None) -> Location:
    return Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)


def load_yaml_text(text: str, file: str, budget: ValueBudget | None = None) -> Document:
    """Parse one YAML document, reporting syntax errors, duplicate keys and limits as
    problems; its values are taken from `budget` (shared by a project's files)."""
    budget = budget if budget is not None else ValueBudget()
    doc = Document(file=file, data=None)
    bad = re.search(_NOT_PRINTABLE, text)
    if bad:
        doc.problems.append(_control_character(text, bad.start(), file))
        return doc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.values[()] = Location(file, 1, 1)
            return doc
        values, _, _ = _Measure(budget.left, loader.anchor_names).measure(node)
        budget.left -= values
        doc.data = _build(loader, node, (), doc)
    except _Refused as exc:
        doc.problems.append(Problem(_loc(file, exc.mark), exc.message, "yaml-limit"))
    except yaml.MarkedYAMLError as exc:
        where = _loc(file, exc.problem_mark or exc.context_mark)
        doc.problems.append(Problem(where, f"invalid YAML: {exc.problem or exc}", "yaml-syntax"))
    except yaml.YAMLError as exc:  # pragma: no cover - errors without marks
        doc.problems.append(Problem(Location(file, 1, 1), f"invalid YAML: {exc}", "yaml-syntax"))
    finally:
        loader.dispose()
    return doc


def _control_character(text: str, index: int, file: str) -> Problem:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    code = ord(text[index])
    kind = "control character" if code < 0x20 or 0x7F <= code < 0xA0 else "character"
    return Problem(
        Location(file, line, column), f"{kind} U+{code:04X} is not allowed in YAML", "yaml-syntax"
    )


def _too_deep() -> str:
    return f"YAML nested more than {MAX_DEPTH} levels deep; a manifest needs far fewer"


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


class _Measure:
    """How many values and levels each node expands to once aliases are followed, counted
    over the composed graph (each node once), so a bomb is refused before it is built."""

    def __init__(self, limit: int, anchor_names: dict[int, str]) -> None:
        self.limit = limit
        self.anchor_names = anchor_names
        self.done: dict[int, tuple[int, int, bool]] = {}  # id -> (values, levels, aliased)
        self.open: set[int] = set()

    def measure(self, node: yaml.Node, depth: int = 0) -> tuple[int, int, bool]:
        """(values, levels, whether aliases repeat some) of `node` at `depth` collections
        down, refusing a limit passed."""
        key = id(node)
        if key in self.done:
            values, levels, _ = self.done[key]
            return values, levels, True
        if key in self.open:
            name = self.anchor_names.get(key, "")
            raise _Refused(
                node.start_mark,
                f"this collection contains an alias of itself (&{name} ... *{name}), "
                "which would never end",
            )
        self.open.add(key)
        values, levels, aliased = 1, 0, False
        for child in _children(node):
            child_values, child_levels, child_aliased = self.measure(child, depth + 1)
            if depth + 1 + child_levels > MAX_DEPTH:
                raise _Refused(node.start_mark, _too_deep())
            values += child_values
            levels = max(levels, child_levels)
            aliased = aliased or child_aliased
        self.open.discard(key)
        if isinstance(node, yaml.CollectionNode):
            levels += 1
        if values > self.limit:
            raise _Refused(node.start_mark, self._too_many(key, values, aliased))
        self.done[key] = (values, levels, aliased)
        return values, levels, aliased

    def _too_many(self, key: int, values: int, aliased: bool) -> str:
        if not aliased:
            return (
                f"the manifests hold more than {MAX_VALUES:,} keys, values and list entries in "
                "all; make many items from text files with sources: instead"
            )
        name = self.anchor_names.get(key)
        return (
            f"{f'the value anchored &{name}' if name else 'this value'} expands through YAML "
            f"aliases to {values:,} values, over the limit of {MAX_VALUES:,} for all manifests "
            "together; write fewer aliases of aliases"
        )


def _build(loader: _Loader, node: yaml.Node, path: KeyPath, doc: Document) -> object:
    doc.values[path] = _loc(doc.file, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(loader, node, path, doc)
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), doc) for i, item in enumerate(node.value)]
    return _scalar(loader, node, doc)


def _build_mapping(
    loader: _Loader, node: yaml.MappingNode, path: KeyPath, doc: Document
) -> dict[object, object]:
    """A mapping's own keys (a repeated one is an error) over those its `<<` merge keys
    bring in (the first source naming a key wins), merged keys first as PyYAML orders them."""
    own = [
        (k, v, _key(loader, k, doc) if isinstance(k, yaml.ScalarNode) else None)
        for k, v in node.value
        if k.tag != _MERGE
    ]
    own_keys = {key for k, _, key in own if isinstance(k, yaml.ScalarNode)}
    result: dict[object, object] = {}
    for key_node, value_node in _merged(node):
        key = _key(loader, key_node, doc)
        if key not in own_keys and key not in result:
            child = (*path, _part(key))
            doc.keys[child] = _loc(doc.file, key_node.start_mark)
            result[key] = _build(loader, value_node, child, doc)
    done: set[object] = set()
    for key_node, value_node, key in own:
        if not isinstance(key_node, yaml.ScalarNode):
            doc.problems.append(
                Problem(_loc(doc.file, key_node.start_mark), "keys must be scalars", "yaml-key")
            )
            continue
        child = (*path, _part(key))
        if key in done:
            doc.problems.append(
                Problem(
                    _loc(doc.file, key_node.start_mark),
                    f"duplicate key {key!r} (first defined at line {doc.keys[child].line})",
                    "duplicate-key",
                )
            )
        else:
            done.add(key)
            doc.keys[child] = _loc(doc.file, key_node.start_mark)
        result[key] = _build(loader, value_node, child, doc)
    return result


def _merged(node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """The pairs `<<` brings into `node`, in YAML's order of precedence."""
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE:
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"'<<' merges mappings, but found {source.id}",
                    source.start_mark,
                )
            yield from ((k, v) for k, v in source.value if k.tag != _MERGE)
            yield from _merged(source)


def _part(key: object) -> str | int:
    return key if isinstance(key, (str, int)) else str(key)


def _key(loader: _Loader, node: yaml.Node, doc: Document) -> object:
    if node.tag == _VALUE_KEY:
        return str(node.value)
    return _scalar(loader, node, doc)


def _scalar(loader: _Loader, node: yaml.Node, doc: Document) -> object:
    """The scalar's value; one Python cannot hold (a 5,000-digit number, 2001-13-45) is a
    problem at its place and reads as the text written."""
    text = str(node.value)
    try:
        value = loader.construct_object(node, deep=True)
        if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:  # 0x..., 1:2:3...
            raise ValueError("too many digits")
        return value
    except (ValueError, OverflowError) as exc:
        if node.tag == "tag:yaml.org,2002:int":
            message = f"a number of {len(text)} digits is too long; quote it if it is text"
        elif node.tag == "tag:yaml.org,2002:timestamp":
            message = f"not a valid date ({exc})"
        else:
            message = f"cannot read {text[:40]!r}: {exc}"
        doc.problems.append(Problem(_loc(doc.file, node.start_mark), message, "yaml-value"))
        return text
