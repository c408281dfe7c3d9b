"""Parsed YAML and JSON documents: every node with its path, and dumping one back with Raw
values spliced in where they were put."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import yaml

from .hostile import Raw

Step = str | int


def nodes(doc: object, path: tuple[Step, ...] = ()) -> Iterator[tuple[tuple[Step, ...], object]]:
    """Every node of a parsed document with its path, depth-first, in document order."""
    yield path, doc
    if isinstance(doc, dict):
        for key, value in list(doc.items()):
            if isinstance(key, str | int):
                yield from nodes(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from nodes(value, (*path, index))


def spell(path: tuple[Step, ...]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path).lstrip(".") or "/"


def put(doc: Any, path: tuple[Step, ...], value: object) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


def with_raws(value: object, raws: list[Raw]) -> object:
    """`value` with each Raw replaced by a placeholder string, collected in `raws`."""
    if isinstance(value, Raw):
        raws.append(value)
        return f"VOXFORM_FUZZ_RAW_{len(raws) - 1}_"
    if isinstance(value, dict):
        return {k: with_raws(v, raws) for k, v in value.items()}
    if isinstance(value, list):
        return [with_raws(v, raws) for v in value]
    return value


def fill_raws(text: str, raws: list[Raw], quote: str = "") -> str:
    for number, raw in enumerate(raws):
        text = text.replace(f"{quote}VOXFORM_FUZZ_RAW_{number}_{quote}", raw.text)
    return text


def dump_yaml(doc: object, rng: random.Random) -> bytes:
    raws: list[Raw] = []
    plain = with_raws(doc, raws)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(
        plain,
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=rng.random() < 0.5,
        default_flow_style=rng.choice([False, None]),
        width=rng.choice([80, 1 << 20]),
    )
    return fill_raws(text, raws).encode("utf-8", "surrogatepass")


def dump_json(doc: object, rng: random.Random) -> bytes:
    raws: list[Raw] = []
    plain = with_raws(doc, raws)
    text = json.dumps(plain, indent=2, sort_keys=rng.random() < 0.7, ensure_ascii=False)
    return (fill_raws(text, raws, quote='"') + "\n").encode("utf-8", "surrogatepass")
