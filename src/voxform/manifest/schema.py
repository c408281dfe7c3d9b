"""JSON Schema validation with errors that point at the offending key or value."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from voxform.errors import Problem, did_you_mean
from voxform.manifest.yamlpos import Document
from voxform.paths import id_problem

CREDENTIAL_KEY = re.compile(r"(?i)(secret|password|passwd|token|access[_-]?key|credential)")


@cache
def manifest_schema() -> dict[str, object]:
    """The manifest JSON Schema shipped inside the package."""
    text = resources.files("voxform.manifest").joinpath("voxform.schema.json").read_text("utf-8")
    schema: dict[str, object] = json.loads(text)
    return schema


def _finite_number(checker: Any, instance: object) -> bool:
    """JSON has no NaN or infinity; YAML's .nan and .inf slip past minimum and maximum
    (every comparison with NaN is false), so a rate limit of .nan would pass as a number."""
    number: bool = Draft202012Validator.TYPE_CHECKER.is_type(instance, "number")
    return number and (not isinstance(instance, float) or math.isfinite(instance))


_FiniteValidator = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _finite_number),
)


@cache
def _validator() -> Draft202012Validator:
    validator: Draft202012Validator = _FiniteValidator(manifest_schema())
    return validator


def schema_problems(doc: Document) -> tuple[list[Problem], set[tuple[str | int, ...]]]:
    """Every schema violation in one document, in file order, and the paths they sit at."""
    found: dict[tuple[int, int, str], Problem] = {}
    bad: set[tuple[str | int, ...]] = set()
    for error in _validator().iter_errors(doc.data):
        bad.add(tuple(error.absolute_path))
        for problem in _explain(error, doc):
            key = (problem.location.line, problem.location.column, problem.message)
            found.setdefault(key, problem)
    ordered = sorted(found.values(), key=lambda p: (p.location.line, p.location.column))
    return ordered, bad


def _explain(error: ValidationError, doc: Document) -> Iterator[Problem]:
    path = tuple(error.absolute_path)
    kind = str(error.validator)
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = set(schema.get("properties", {}))
        for key in instance:
            if key in known:
                continue
            where = doc.where((*path, key), key=True)
            if CREDENTIAL_KEY.search(str(key)):
                message = (
                    f"credentials never belong in manifests: remove {key!r} and set "
                    "ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET "
                    "or use an aliyun CLI profile"
                )
                yield Problem(where, message, "credentials")
            else:
                yield Problem(
                    where, f"unknown key {key!r}{did_you_mean(str(key), known)}", "unknown-key"
                )
        return
    if kind == "propertyNames":
        yield Problem(doc.where(path, key=True), error.message, "schema")
        return
    if (
        kind == "oneOf"
        and isinstance(instance, dict)
        and {"text", "source"} & set(str(s) for s in _required_options(schema))
    ):
        if "text" in instance and "source" in instance:
            msg = "an item takes either 'text' or 'source', not both"
        else:
            msg = "an item needs 'text' or 'source'"
        yield Problem(doc.where(path), msg, "schema")
        return
    if kind == "oneOf" and isinstance(instance, dict) and "match" in instance:
        yield Problem(
            doc.where(path), "a lexicon entry takes either 'alias' or 'phoneme'", "schema"
        )
        return
    if kind == "anyOf" and isinstance(instance, dict) and "volume" in schema.get("properties", {}):
        yield Problem(doc.where(path), "a voice needs 'voice' or 'customized_voice'", "schema")
        return
    if kind == "False schema" or error.schema is False:
        parent = path[:-1]
        target = doc.data
        for step in parent:
            target = target[step] if isinstance(target, (dict, list)) else None
        provider = target.get("provider") if isinstance(target, dict) else None
        yield Problem(
            doc.where(path, key=True),
            f"{path[-1]!r} does not apply to a {provider} target",
            "schema",
        )
        return
    if kind == "required":
        yield Problem(doc.where(path), error.message.replace("property", "key"), "schema")
        return
    if kind == "type":
        expected = schema.get("type")
        yield Problem(
            doc.where(path),
            f"expected {_type_words(expected)}, got {_type_name(instance)} {_short(instance)}",
            "schema",
        )
        return
    if kind == "enum" and isinstance(instance, str):
        options = list(schema.get("enum", []))
        shown = ", ".join(repr(o) for o in options)
        yield Problem(
            doc.where(path),
            f"{instance!r} is not one of {shown}{did_you_mean(instance, options)}",
            "schema",
        )
        return
    if kind in ("pattern", "maxLength") and path and path[-1] == "id" and isinstance(instance, str):
        yield Problem(doc.where(path), id_problem(instance) or error.message, "schema")
        return
    yield Problem(doc.where(path), error.message, "schema")


def _required_options(schema: dict[str, object]) -> Iterator[object]:
    options = schema.get("oneOf", [])
    if isinstance(options, list):
        for option in options:
            if isinstance(option, dict):
                yield from option.get("required", [])


def _type_words(expected: object) -> str:
    if isinstance(expected, list):
        return " or ".join(_article(str(t)) for t in expected)
    return _article(str(expected))


def _article(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _type_name(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}
    if isinstance(value, float) and not math.isfinite(value):
        return "non-finite number"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    return names.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
