"""Mutations of what a user writes: voxform.yaml (as YAML and as bytes), its include:
patterns, templates and text sources."""

from __future__ import annotations

import json
import re
from typing import Any

from .case import Case, clear, write_file
from .documents import nodes, put, spell
from .hostile import (
    HOSTILE_JINJA,
    Raw,
    hostile_id,
    hostile_text,
    hostile_value,
    pathish,
    unicode_strings,
    yaml_raw,
)


def mutate_manifest(case: Case) -> str:
    """Parse voxform.yaml, change one thing, dump it again."""
    rng, doc = case.rng, case.manifest()
    if doc is None:
        return mutate_manifest_bytes(case)
    places = [(p, v) for p, v in nodes(doc) if p]
    if not places:
        return mutate_manifest_bytes(case)
    op = rng.choice(
        ("delete", "duplicate", "swap", "swap", "swap", "path", "id", "items", "key", "structure")
    )
    if op == "delete":
        path, _ = rng.choice(places)
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
        case.save_manifest(doc)
        return f"yaml: delete {spell(path)}"
    if op == "duplicate":
        case.save_manifest(doc)
        data = case.relative("voxform.yaml").read_bytes()
        lines = data.split(b"\n")
        keyed = [n for n, line in enumerate(lines) if re.match(rb"^\s*-?\s*[A-Za-z_]\w*:", line)]
        if not keyed:
            return "yaml: duplicate (no key line)"
        number = rng.choice(keyed)
        lines.insert(number + 1, lines[number])
        case.relative("voxform.yaml").write_bytes(b"\n".join(lines))
        return f"yaml: duplicate line {number + 1} {lines[number][:40]!r}"
    if op == "swap":
        path, _ = rng.choice(places)
        value = hostile_value(rng, case.sentinel)
    elif op == "path":
        keys = ("path", "source", "glob", "include", "plain", "lesson", "prefix", "bucket")
        paths = [p for p, _ in places if p[-1] in keys] or [p for p, _ in places]
        path = rng.choice(paths)
        value = pathish(rng, case.sentinel, read_only=path[-1] in ("source", "glob", "include"))
    elif op == "id":
        paths = [p for p, _ in places if p[-1] == "id"] or [p for p, _ in places]
        path, value = rng.choice(paths), hostile_id(rng)
    elif op == "items":
        count = rng.choice((1, 3, 5000))
        text = rng.choice(("Hello.", "x" * 2001, "A. " * 1000, unicode_strings(rng)))
        made = [
            {"id": hostile_id(rng) if rng.random() < 0.5 else f"extra/{n}", "text": text}
            for n in range(count)
        ]
        items = doc.get("items")
        doc["items"] = (items if isinstance(items, list) else []) + made
        case.save_manifest(doc)
        return f"yaml: add {count} items ({made[0]['id']!r}, text {text[:20]!r})"
    elif op == "key":
        path, target = rng.choice([(p, v) for p, v in nodes(doc) if isinstance(v, dict)])
        key = rng.choice(
            [
                1,
                None,
                True,
                1.5,
                "ID",
                "id ",
                "<<",
                "Items",
                "x" * 300,
                "\x00",
                "access_key_secret",
                "AccessKeyId",
                "__proto__",
                "$schema",
            ]
        )
        assert isinstance(target, dict)
        target[key] = hostile_value(rng, case.sentinel)
        case.save_manifest(doc)
        return f"yaml: key {key!r} in {spell(path)}"
    else:
        path, _ = rng.choice(places)
        value = yaml_raw(rng, case.sentinel)
    put(doc, path, value)
    case.save_manifest(doc)
    shown = value.label if isinstance(value, Raw) else repr(value)[:40]
    return f"yaml: {op} {spell(path)} = {shown}"


def mutate_manifest_bytes(case: Case) -> str:
    """Flip, insert, delete, truncate or break the encoding of voxform.yaml's bytes."""
    rng, path = case.rng, case.relative("voxform.yaml")
    data = bytearray(path.read_bytes())
    done = []
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(("flip", "insert", "delete", "truncate", "encoding", "structure"))
        at = rng.randrange(len(data) + 1)
        if op == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << rng.randrange(8)
        elif op == "insert":
            data[at:at] = rng.choice(
                [
                    b"\x00",
                    b"\xff",
                    b"\t",
                    b"\r",
                    b":",
                    b"- ",
                    b"&a ",
                    b"*a",
                    b"!",
                    b"|",
                    b">",
                    b"%",
                    b"@",
                    b"`",
                    b"{",
                    b"[",
                    b"'",
                    b'"',
                    b"#",
                    b"\n  ",
                    b"? ",
                    b"\xc3\x28",
                    b"\xef\xbb\xbf",
                ]
            )
        elif op == "delete":
            del data[at : at + rng.randint(1, 40)]
        elif op == "truncate":
            del data[at:]
        elif op == "encoding":
            data[at:at] = rng.choice([b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"])
        else:
            data = bytearray(
                rng.choice(
                    [
                        b"%YAML 1.1\n---\n" + data,
                        b"%TAG ! tag:x,2000:\n---\n" + data,
                        data + b"\n---\nversion: 2\n",
                        data + b"\n...\n",
                        b"--- !!map\n" + data,
                        b"\xef\xbb\xbf" + data,
                        data.replace(b"\n", b"\r\n"),
                        data.replace(b"\n", b"\r"),
                        data.replace(b"  ", b"\t"),
                        "\ufeff".encode("utf-16")
                        + data.decode("utf-8", "replace").encode("utf-16-le"),
                    ]
                )
            )
        done.append(f"{op}@{at}")
    path.write_bytes(bytes(data))
    case.raw_manifest = True
    return "bytes: " + " ".join(done)


def mutate_include(case: Case) -> str:
    """include: patterns that loop, escape or match too much, and manifests to match."""
    rng = case.rng
    pattern = rng.choice(
        [
            "narrations/*.yaml",
            "voxform.yaml",
            "*.yaml",
            "**/*.yaml",
            "../*",
            "/etc/*.conf",
            f"{case.sentinel}/*.yaml",
            "narrations/[a-",
            "narrations/" + "*" * 300,
            "{a,b}.yaml",
            "narrations/**/**/**/**/*.yaml",
            "narrations",
            ".",
            "",
        ]
    )
    (case.relative("narrations")).mkdir(exist_ok=True)
    kind = rng.choice(("cycle", "items", "many", "link", "empty", "copy"))
    if kind == "cycle":
        write_file(case.relative("narrations/a.yaml"), b"include: [voxform.yaml, narrations/*]\n")
    elif kind == "items":
        write_file(
            case.relative("narrations/a.yaml"),
            (
                "items:\n  - {id: welcome, text: Twice.}\n  - {id: "
                + json.dumps(hostile_id(rng))
                + ", text: Hi.}\n"
            ).encode(),
        )
    elif kind == "many":
        for n in range(300):
            write_file(
                case.relative(f"narrations/n{n:03}.yaml"),
                f"items:\n  - {{id: inc/{n}, text: Number {n}.}}\n".encode(),
            )
    elif kind == "link":
        (case.sentinel / "secret.yaml").write_text("items: [{id: secret, text: Secret.}]\n")
        clear(case.relative("narrations/a.yaml"))
        case.relative("narrations/a.yaml").symlink_to(case.sentinel / "secret.yaml")
    elif kind == "empty":
        write_file(case.relative("narrations/a.yaml"), rng.choice([b"", b"~\n", b"[]\n", b"x\n"]))
    else:
        write_file(case.relative("narrations/a.yaml"), case.relative("voxform.yaml").read_bytes())
    doc = case.manifest()
    value: object = pattern if rng.random() < 0.2 else [pattern]
    if doc is not None:
        doc["include"] = value
        case.save_manifest(doc)
    else:
        with case.relative("voxform.yaml").open("ab") as handle:
            handle.write(f"\ninclude: {json.dumps(value)}\n".encode())
    return f"include: {pattern!r} with {kind}"


def mutate_template(case: Case) -> str:
    """Hostile Jinja inserted into a template (one is made where the example has none)."""
    rng = case.rng
    templates = case.files("templates", (".j2",))
    if not templates:
        doc = case.manifest()
        if doc is None:
            return mutate_manifest_bytes(case)
        case.relative("templates").mkdir(exist_ok=True)
        write_file(case.relative("templates/t.ssml.j2"), b"<speak>{{ text }}</speak>\n")
        doc["templates"] = {"t": "templates/t.ssml.j2"}
        if isinstance(doc.get("defaults"), dict):
            doc["defaults"]["template"] = "t"
        case.save_manifest(doc)
        templates = [case.relative("templates/t.ssml.j2")]
    target = rng.choice(templates)
    name = target.relative_to(case.project).as_posix()
    snippet = rng.choice(HOSTILE_JINJA).replace("<self>", name)
    text = target.read_text("utf-8", "surrogateescape")
    how = rng.choice(("insert", "append", "replace", "wrap"))
    if how == "insert":
        at = rng.randrange(len(text) + 1)
        text = text[:at] + snippet + text[at:]
    elif how == "append":
        text += snippet
    elif how == "replace":
        text = snippet
    else:
        text = f"<speak>{snippet}{text}</speak>"
    target.write_text(text, "utf-8", "surrogateescape")
    return f"template {name}: {how} {snippet[:50]!r}"


def mutate_text(case: Case) -> str:
    """Replace, extend or add a text source with hostile content or a hostile name."""
    rng = case.rng
    texts = case.files("texts", (".md", ".txt"))
    data, label = hostile_text(rng)
    how = rng.choice(("replace", "insert", "new"))
    if how == "new" or not texts:
        folder = case.relative("texts/chapters" if case.example == "quickstart" else "texts")
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".md" if case.example == "quickstart" else ".txt"
        stem = rng.choice(
            [
                "03-é",
                "03-日本",
                ".",
                "",
                "a b",
                "a\nb",
                "x" * 250,
                "-",
                ".hidden",
                "01 basics",
                "01-Basics",
                "p1",
                "03-\u202eevil",
                "03",
            ]
        )
        target = folder / f"{stem}{suffix}"
        clear(target)
        if rng.random() < 0.1:
            target.mkdir()
            return f"text: directory {target.name!r}"
        target.write_bytes(data)
        return f"text: new file {target.name[:60]!r} with {label}"
    target = rng.choice(texts)
    if how == "insert":
        old = target.read_bytes()
        at = rng.randrange(len(old) + 1)
        data = old[:at] + data + old[at:]
    target.write_bytes(data)
    return f"text: {how} {target.relative_to(case.project).as_posix()} with {label}"
