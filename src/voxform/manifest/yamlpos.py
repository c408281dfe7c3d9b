"""YAML loading that remembers where every key and value came from."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from voxform.errors import Location, Problem

KeyPath = tuple[str | int, ...]


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


def _loc(file: str, mark: yaml.Mark) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def load_yaml_text(text: str, file: str) -> Document:
    """Parse one YAML document, reporting syntax errors and duplicate keys as problems."""
    doc = Document(file=file, data=None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            doc.values[()] = Location(file, 1, 1)
            return doc
        doc.data = _build(loader, node, (), doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _loc(file, mark) if mark else Location(file, 1, 1)
        doc.problems.append(Problem(where, f"invalid YAML: {exc.problem or exc}", "yaml-syntax"))
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors without marks
        doc.problems.append(Problem(Location(file, 1, 1), f"invalid YAML: {exc}", "yaml-syntax"))
    finally:
        loader.dispose()
    return doc


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: KeyPath, doc: Document) -> object:
    doc.values[path] = _loc(doc.file, node.start_mark)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                doc.problems.append(
                    Problem(_loc(doc.file, key_node.start_mark), "keys must be scalars", "yaml-key")
                )
                continue
            child = (*path, key if isinstance(key, (str, int)) else str(key))
            if key in result:
                first = doc.keys.get(child)
                doc.problems.append(
                    Problem(
                        _loc(doc.file, key_node.start_mark),
                        f"duplicate key {key!r}"
                        + (f" (first defined at line {first.line})" if first else ""),
                        "duplicate-key",
                    )
                )
            else:
                doc.keys[child] = _loc(doc.file, key_node.start_mark)
            result[key] = _build(loader, value_node, child, doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), doc) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)
