"""Hostile inputs: random mutations of the examples, run through voxform as a user would.

    python bench/fuzz.py [--cases 1000] [--seed N] [--timeout 10] [--apply-every 10]
        [--apply-timeout 60] [--jobs 2] [--only N] [--results FILE]

Each case copies an example (the files git tracks; the quickstart with the lockfile and audio
of one real `voxform apply --yes`, made once per run), applies one to three mutations drawn
from `random.Random(seed + case)`: YAML-aware and byte-level edits of voxform.yaml, hostile
Jinja in templates, hostile text sources, JSON-aware and byte-level edits of voxform.lock and
its journal, and symlinks, hard links, FIFOs and directories planted where outputs go. Then
it runs `validate`, `plan --json` and, every Nth case, `apply --yes` (every other time with
`--prune`), each in its own process group with stdin closed, no credentials and proxies
pointing at a trap socket, under a timeout, measuring wall time and peak RSS (`os.wait4`).

A case lives in ROOT/p/q/project beside ROOT/p/q/sentinel, with victim files at each level
up to ROOT; hostile paths never climb above ROOT, and symlinks point into the sentinel.
After each command every file under ROOT except the project's outputs (build/, subtitles/,
.voxform/, voxform.lock and its temporary files, new audio or subtitle files) is compared
with its state before the run: any difference counts as "changed outside outputs".

Prints the seed first and a table last; exits 1 when any command printed a traceback, hung,
went over 500 MB, exited with another code than 0, 1 or 2, reached for the network during
validate or plan, or changed a file outside the outputs. `--only N` replays case N, prints
each command's output and keeps the case's directory.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = ("quickstart", "ice-emulator")
MEMORY_LIMIT_KB = 500 * 1024
HARD_MEMORY_KB = 2048 * 1024  # killed at once past this, to keep the machine alive
ADDRESS_SPACE = 4 << 30  # RLIMIT_AS of the fuzzer and all it starts (apply peaks near 0.4 GB)
OUTPUT_LIMIT = 256 << 20  # bytes a command may print before it is killed as a runaway
APPLY_CHARACTER_BUDGET = 20_000  # apply only plans whose local synthesis takes seconds
TRACEBACK = "Traceback (most recent call last)"
MARKER = "VOXFORM_FUZZ_ROOT"  # in each child's environment, to find what it left running
FAILURES = ("traceback", "hang", "memory", "crash", "outside", "network", "fuzzer error")
NOTES = ("log injection", "bad json", "left running")
OUTCOMES = ("exit 0", "exit 1", "exit 2", "crash", "traceback", "hang", "memory")
LABELS = {
    "crash": "crash (exit not 0/1/2)",
    "hang": "hang (timeout)",
    "memory": "memory over 500 MB",
    "outside": "changed outside outputs",
    "network": "network in validate/plan",
    "fuzzer error": "fuzzer error",
    "log injection": "log injection (note)",
    "bad json": "plan --json not JSON (note)",
    "left running": "processes left running (note)",
}
GITHUB_COMMANDS = ("::error", "::warning", "::notice", "::group", "::endgroup", "::debug")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# -- hostile values -------------------------------------------------------------------------


class Raw:
    """Text written into a YAML or JSON document as it is (what a dumper cannot produce)."""

    def __init__(self, text: str, label: str) -> None:
        self.text, self.label = text, label


def laughs(levels: int = 9) -> str:
    lines = ["&l0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "[" + ", ".join(lines) + "]"


def yaml_raw(rng: random.Random, sentinel: Path) -> Raw:
    depth = rng.choice((500, 5000))
    return rng.choice([
        Raw("1" + "0" * 5000, "10**5000"),
        Raw("-0x" + "f" * 5000, "5000-digit hex"),
        Raw("1e999", "1e999"), Raw(".nan", "nan"), Raw("-.inf", "-inf"),
        Raw("!!float 1e5000", "!!float 1e5000"),
        Raw("[" * depth + "]" * depth, f"[ nested {depth}"),
        Raw("{a: " * depth + "1" + "}" * depth, f"{{ nested {depth}"),
        Raw(laughs(), "billion laughs"),
        Raw("&self [*self]", "recursive list"), Raw("&me {a: *me}", "recursive map"),
        Raw('"\\uD800"', "lone surrogate"), Raw('"\\0\\a\\e"', "escaped controls"),
        Raw(f"!!python/object/apply:os.system ['touch {sentinel}/pwned']", "python tag"),
        Raw("!!binary aGVsbG8=", "binary"), Raw("2024-01-01", "date"),
        Raw("2001-12-14t21:59:43.10-05:00", "timestamp"), Raw("!!set {a, b}", "set"),
        Raw("{[a, b]: 1}", "complex key"), Raw("{? a}", "key without value"),
        Raw("1:20", "sexagesimal"), Raw("0o17", "octal"), Raw("yes", "yes"), Raw("=", "="),
        Raw("!unknown x", "unknown tag"), Raw("*nowhere", "undefined alias"),
        Raw("{<<: [1, 2]}", "bad merge"),
    ])


def unicode_strings(rng: random.Random) -> str:
    return rng.choice([
        "\u202eevil.mp3", "😀" * 1000, "\x00", "a\x00b", "\x07\x1b[31mred\x1b[0m\x9b2J",
        "\n::add-mask::x", "x\r\n::error file=voxform.yaml::forged", "\u2028\u2029", "\ufeff",
        "e" + "\u0301" * 5000, "\t", "مرحبا بالعالم", "\u200b", "%0A::add-mask::x", "\\",
    ])


def pathish(rng: random.Random, sentinel: Path, *, read_only: bool = False) -> str:
    """Paths that should be refused or kept inside; `read_only` adds system files, for
    values voxform only ever reads."""
    options = [
        "../x", "../../x", "../../../victim.txt", "../sentinel/victim.txt", f"{sentinel}/x",
        str(sentinel), f"{sentinel}/victim.txt", "a/./b", "a//b", "./build", "x" * 300,
        "build/../build/audio", "/".join(["d"] * 100), "~/x", "$HOME/x", "C:\\x", "build\\audio",
        " ", "", ".", "..", "texts/*", "texts/**", "**", "[", "texts/chapters/[!0]*.md",
        "voxform.yaml", "voxform.lock", ".voxform", ".voxform/x", ".git/x",
        "templates/plain.ssml.j2", "build/audio/../../templates", "-rf", "--help",
        "\n::add-mask::x", "build/\u202e3pm.exe", "nul", "a\x00b", "x/" + "y" * 256,
    ]
    if read_only:
        options += ["/etc/passwd", "/dev/zero", "/proc/self/environ", "/dev/stdin",
                    "../../../../../../../../etc/hostname", "/proc/self/fd/0"]
    return rng.choice(options)


def hostile_id(rng: random.Random) -> str:
    return rng.choice([
        "..", "a/..", "a/../b", "../welcome", "welcome/..", "a/../../../victim", "./a", "a/./b",
        "a//b", "/abs", "A", "welcome ", "x" * 300, "é", "a\x00", "con", "welcome.mp3", "-",
        ".hidden", "a/", "lesson-01", "chapters/01-basics/p1", "chapters/01-basics/p1-1",
        "welcome/x", "a" * 200 + "/" + "b" * 200, "\n::add-mask::x", "*", "a b",
    ])


def hostile_value(rng: random.Random, sentinel: Path) -> object:
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice(["", "x", "0", "true", "null", "1e999"])
    if kind == 1:
        return rng.choice([0, -1, 1, 2**63, -(2**63) - 1, 10**300])
    if kind == 2:
        return rng.choice([0.0, -0.0, 1.5, 1e308, 5e-324, float("inf"), float("nan")])
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.choice([[], [1, 2], [None], [[[]]], ["a"] * 10_000])
    if kind == 5:
        return rng.choice([{}, {"a": 1}, {1: 2}, {None: None}, {True: "x"}])
    if kind == 6:
        return rng.choice(["x" * (1 << 20), "Hello world. " * 80_000, "a\n\n" * 20_000])
    if kind == 7:
        return unicode_strings(rng)
    if kind == 8:
        return pathish(rng, sentinel)
    if kind == 9:
        return hostile_id(rng)
    return yaml_raw(rng, sentinel)


# -- documents with positions to mutate ------------------------------------------------------

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
        plain, Dumper=dumper, sort_keys=False, allow_unicode=rng.random() < 0.5,
        default_flow_style=rng.choice([False, None]), width=rng.choice([80, 1 << 20]),
    )
    return fill_raws(text, raws).encode("utf-8", "surrogatepass")


def dump_json(doc: object, rng: random.Random) -> bytes:
    raws: list[Raw] = []
    plain = with_raws(doc, raws)
    text = json.dumps(plain, indent=2, sort_keys=rng.random() < 0.7, ensure_ascii=False)
    return (fill_raws(text, raws, quote='"') + "\n").encode("utf-8", "surrogatepass")


def json_raw(rng: random.Random) -> Raw:
    depth = rng.choice((500, 100_000))
    return rng.choice([
        Raw("1" + "0" * 5000, "5000 digits"), Raw("1e999", "1e999"), Raw("NaN", "NaN"),
        Raw("-Infinity", "-Infinity"), Raw("[" * depth + "]" * depth, f"[ nested {depth}"),
        Raw('{"a":' * depth + "1" + "}" * depth, f"{{ nested {depth}"),
        Raw('"\\ud800"', "lone surrogate"), Raw('"\\u0000"', "NUL"), Raw("-0", "-0"),
        Raw("1.0e-400", "underflow"), Raw('"' + "x" * (1 << 20) + '"', "1 MB string"),
    ])


# -- the case --------------------------------------------------------------------------------


@dataclass
class Case:
    number: int
    root: Path  # ROOT: everything the case may touch lives here
    project: Path
    sentinel: Path
    rng: random.Random
    example: str
    mutations: list[str] = field(default_factory=list)
    raw_manifest: bool = False  # voxform.yaml no longer parses as the example did

    def relative(self, *parts: str) -> Path:
        return self.project.joinpath(*parts)

    def files(self, folder: str, suffixes: tuple[str, ...]) -> list[Path]:
        base = self.relative(folder)
        return sorted(
            p for p in base.rglob("*")
            if p.suffix in suffixes and p.is_file() and not p.is_symlink()
        ) if base.is_dir() else []

    def manifest(self) -> dict[str, Any] | None:
        """voxform.yaml parsed, when no earlier mutation made that impossible."""
        if self.raw_manifest:
            return None
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = read_regular(self.relative("voxform.yaml"))
        if data is None:
            return None
        try:
            doc = yaml.load(data, Loader=loader)
        except (yaml.YAMLError, ValueError, RecursionError):
            return None
        return doc if isinstance(doc, dict) else None

    def save_manifest(self, doc: object) -> None:
        self.raw_manifest = any(isinstance(value, Raw) for _, value in nodes(doc))
        self.relative("voxform.yaml").write_bytes(dump_yaml(doc, self.rng))


def mutate_manifest(case: Case) -> str:
    """Parse voxform.yaml, change one thing, dump it again."""
    rng, doc = case.rng, case.manifest()
    if doc is None:
        return mutate_manifest_bytes(case)
    places = [(p, v) for p, v in nodes(doc) if p]
    if not places:
        return mutate_manifest_bytes(case)
    op = rng.choice(("delete", "duplicate", "swap", "swap", "swap", "path", "id", "items",
                     "key", "structure"))
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
        made = [{"id": hostile_id(rng) if rng.random() < 0.5 else f"extra/{n}", "text": text}
                for n in range(count)]
        items = doc.get("items")
        doc["items"] = (items if isinstance(items, list) else []) + made
        case.save_manifest(doc)
        return f"yaml: add {count} items ({made[0]['id']!r}, text {text[:20]!r})"
    elif op == "key":
        path, target = rng.choice([(p, v) for p, v in nodes(doc) if isinstance(v, dict)])
        key = rng.choice([1, None, True, 1.5, "ID", "id ", "<<", "Items", "x" * 300, "\x00",
                          "access_key_secret", "AccessKeyId", "__proto__", "$schema"])
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
            data[at:at] = rng.choice([b"\x00", b"\xff", b"\t", b"\r", b":", b"- ", b"&a ", b"*a",
                                      b"!", b"|", b">", b"%", b"@", b"`", b"{", b"[", b"'",
                                      b'"', b"#", b"\n  ", b"? ", b"\xc3\x28", b"\xef\xbb\xbf"])
        elif op == "delete":
            del data[at : at + rng.randint(1, 40)]
        elif op == "truncate":
            del data[at:]
        elif op == "encoding":
            data[at:at] = rng.choice([b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"])
        else:
            data = bytearray(rng.choice([
                b"%YAML 1.1\n---\n" + data, b"%TAG ! tag:x,2000:\n---\n" + data,
                data + b"\n---\nversion: 2\n", data + b"\n...\n", b"--- !!map\n" + data,
                b"\xef\xbb\xbf" + data, data.replace(b"\n", b"\r\n"), data.replace(b"\n", b"\r"),
                data.replace(b"  ", b"\t"), "\ufeff".encode("utf-16") + data.decode("utf-8",
                "replace").encode("utf-16-le"),
            ]))
        done.append(f"{op}@{at}")
    path.write_bytes(bytes(data))
    case.raw_manifest = True
    return "bytes: " + " ".join(done)


def mutate_include(case: Case) -> str:
    """include: patterns that loop, escape or match too much, and manifests to match."""
    rng = case.rng
    pattern = rng.choice([
        "narrations/*.yaml", "voxform.yaml", "*.yaml", "**/*.yaml", "../*", "/etc/*.conf",
        f"{case.sentinel}/*.yaml", "narrations/[a-", "narrations/" + "*" * 300,
        "{a,b}.yaml", "narrations/**/**/**/**/*.yaml", "narrations", ".", "",
    ])
    (case.relative("narrations")).mkdir(exist_ok=True)
    kind = rng.choice(("cycle", "items", "many", "link", "empty", "copy"))
    if kind == "cycle":
        write_file(case.relative("narrations/a.yaml"), b"include: [voxform.yaml, narrations/*]\n")
    elif kind == "items":
        write_file(case.relative("narrations/a.yaml"), (
            "items:\n  - {id: welcome, text: Twice.}\n  - {id: " + json.dumps(hostile_id(rng))
            + ", text: Hi.}\n"
        ).encode())
    elif kind == "many":
        for n in range(300):
            write_file(case.relative(f"narrations/n{n:03}.yaml"),
                       f"items:\n  - {{id: inc/{n}, text: Number {n}.}}\n".encode())
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


HOSTILE_JINJA = (
    "{{ range(10**9)|list }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    '{{ "%0999999999d" % 1 }}', '{{ "x" * 10**9 }}', "{{ 10**10**10 }}", "{{ 9**9**9 }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", '{% include "<self>" %}',
    '{% extends "<self>" %}', '{% import "<self>" as x %}{{ x }}',
    "{{ text|truncate(-1) }}", "{{ [1,2]|random }}", "{{ pause }}", "{{ cycler(1) }}",
    "{{ ''.__class__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ item.__init__.__globals__ }}", "{{ pause.__globals__ }}", "{{ self }}",
    "<prosody rate='2'>x</prosody>", "<s>unbalanced", "</speak>", "<speak><speak>",
    '<!DOCTYPE x [<!ENTITY a "b">]>&a;', "<?xml-stylesheet href='x'?>", "<![CDATA[ x ]]>",
    "{{ pause(10**100) }}", "{{ pause(-1) }}", "{{ pause('x') }}", "{{ pause(0.5) }}",
    '{{ say_as(text, "<x>") }}', '{{ phoneme(text, "\\"/>", "cmu") }}', "{{ sub(text, 1) }}",
    "{{ text|center(10**9) }}", "{{ text|indent(10**9) }}", "{{ text|wordwrap(1) }}",
    '{{ text|replace("", "x" * 1000) }}', "{{ range(100000)|join(text) }}",
    "{{ (10**5000)|string }}", "{{ text|urlize }}", "{{ vars.nope }}", "{{ voice }}",
    "{{ item }}", "{{ vars }}", "{% set x = namespace(a=1) %}{{ x }}", "{%", "{{", "{# x",
    "{% raw %}", "{{ }}", "{% for %}", "{{ text|format(text) }}", '{{ "%s%s" % text }}',
    "{{ text|tojson }}", "{{ range(100000)|map('string')|join }}", "{{ lipsum() }}",
    "{{ dict(a=1).items() }}", "{{ [].append(1) }}", "{{ vars.update({'a': 1}) }}",
    "{{ text * 1000 }}", "{{ (text * 1000)|length }}", "\x00", "\ufeff", "\u202e",
)


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


def hostile_text(rng: random.Random) -> tuple[bytes, str]:
    options: list[tuple[Callable[[], bytes], str]] = [
        (lambda: b"[" * 100_000, "100 KB of ["),
        (lambda: b"A. " * 25_000, "25,000 x 'A. '"),
        (lambda: b"A.\n\n" * 5_000, "5,000 paragraphs"),
        (lambda: b"| a | b |\n|---|---|\n" + b"| x | y |\n" * 2000, "markdown table"),
        (lambda: b"word " * 200_000, "1 MB line without a full stop"),
        (lambda: b"x" * 1_000_000, "1 MB word"),
        (lambda: b"\xff\xfe\x00abc\xc3\x28 text.", "not UTF-8"),
        (lambda: "Hello there. Fine.".encode("utf-16"), "UTF-16"),
        (lambda: b"a\x00b. c\x1b[2Jd.\x07", "controls"),
        (lambda: ("\u202eevil. 😀 " * 200 + "e" + "\u0301" * 5000 + ".").encode(), "unicode"),
        (lambda: b"{{ 7*7 }} {% for %} {# x", "jinja in text"),
        (lambda: b"<speak><break time='11s'/></speak> ]]> &amp; &#0; <!DOCTYPE x> <p>", "xml"),
        (lambda: b"", "empty"), (lambda: b" \n\t\n\n  \n", "whitespace"),
        (lambda: b"One.\r\n\r\nTwo.\rThree.\x0cFour.\xe2\x80\xa8Five.", "line endings"),
        (lambda: b"```\nunclosed <!-- x\n---\nx: 1\n---\n# H\n> " * 300, "markdown"),
        (lambda: b"Mr. Dr. e.g. i.e. U.S.A. 3.14 ... ?! " * 3000, "abbreviations"),
        (lambda: ("\n::add-mask::x\n" * 3).encode(), "workflow command"),
        (lambda: b"x" * 2001 + b". " + b"y" * 2001 + b".", "two chunks over the limit"),
    ]
    make, label = rng.choice(options)
    return make(), label


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
        stem = rng.choice(["03-é", "03-日本", ".", "", "a b", "a\nb", "x" * 250, "-", ".hidden",
                           "01 basics", "01-Basics", "p1", "03-\u202eevil", "03"])
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


def read_regular(path: Path, limit: int = 64 << 20) -> bytes | None:
    """The bytes of a regular file that is no symlink and not too big; None for anything else
    (a FIFO or /dev/zero planted by an earlier mutation must not block or fill the fuzzer)."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        return None
    return path.read_bytes()


def write_file(path: Path, data: bytes) -> None:
    """`data` in a regular file at `path`, whatever an earlier mutation planted there (a FIFO
    would block the fuzzer, a symlink would carry the write elsewhere)."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        clear(path)
    path.write_bytes(data)


def clear(path: Path) -> None:
    """Nothing at `path` any more (a real directory is removed with what it holds)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


def ensure_lockfile(case: Case, template: Path) -> Path:
    lock = case.relative("voxform.lock")
    if not lock.exists() and not lock.is_symlink():
        shutil.copyfile(template / "quickstart" / "voxform.lock", lock)
    return lock


def lock_doc(lock: Path) -> dict[str, Any] | None:
    data = read_regular(lock)
    if data is None:
        return None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), dict) or too_deep(doc):
        return None  # the byte-level mutations take it from here
    return doc


def too_deep(doc: object, limit: int = 100) -> bool:
    """Whether `doc` nests past `limit` (the mutators walk documents recursively)."""
    level: list[object] = [doc]
    for _ in range(limit):
        level = [
            child for node in level
            for child in (node.values() if isinstance(node, dict) else node
                          if isinstance(node, list) else ())
        ]
        if not level:
            return False
    return True


def mutate_lockfile(case: Case, template: Path) -> str:
    """Edit voxform.lock as JSON (types, numbers, nesting, paths in outputs) or as bytes."""
    rng = case.rng
    lock = ensure_lockfile(case, template)
    doc = lock_doc(lock)
    if doc is None or rng.random() < 0.2:
        return mutate_lock_bytes(case, lock)
    items: dict[str, Any] = doc["items"]
    entries = [e for e in items.values() if isinstance(e, dict)]
    op = rng.choice(("swap", "swap", "version", "number", "escape", "escape", "orphan", "many",
                     "drop", "structure"))
    entry = rng.choice(entries) if entries else {}
    if op == "swap":
        path, _ = rng.choice([(p, v) for p, v in nodes(doc) if p])
        value = hostile_value(rng, case.sentinel)
        if isinstance(value, Raw) or rng.random() < 0.3:
            value = json_raw(rng)
        put(doc, path, value)
        label = f"{spell(path)} = {value.label if isinstance(value, Raw) else repr(value)[:40]}"
    elif op == "version":
        doc["lockfile_version"] = rng.choice([True, "1", 2, 0, -1, 1.0, None, [], {},
                                              Raw("1e999", "1e999"), Raw("1" + "0" * 5000, "big")])
        label = f"lockfile_version = {doc['lockfile_version']!r:.40}"
    elif op == "number":
        name = rng.choice(("duration", "characters"))
        entry[name] = json_raw(rng)
        label = f"{name} = {entry[name].label}"
    elif op in ("escape", "orphan"):
        victim = rng.choice([
            "../../x", "../victim.txt", "../../victim.txt", "../../../victim.txt",
            "../sentinel/victim.txt", f"{case.sentinel}/victim.txt", "texts/lesson-01.md",
            "voxform.yaml", "templates/plain.ssml.j2", "build/audio/../../voxform.yaml",
            "build/audio/welcome.mp3/../../../voxform.yaml", ".", "", "build", "texts",
            "build/audio/chapters/../../../texts/lesson-01.md", ".git", "/",
        ])
        if op == "orphan":
            entry = dict(entry) if entry else {"state": "finished", "characters": 1}
            items[rng.choice(["zz-orphan", "../zz", "zz/../../x"])] = entry
        where = rng.choice(("outputs", "url", "subtitles"))
        if where == "outputs":
            entry["outputs"] = {victim: {"sha256": "0" * 64, "size": 1}}
        elif where == "url":
            entry["url"] = victim
        else:
            entry["subtitles"] = {"vtt": victim, "srt": victim}
        if rng.random() < 0.5 and isinstance(entry.get("inputs"), dict):
            entry["inputs"]["format"] = "wav"  # stale: an update removes the old files
            entry["fingerprint"] = "sha256:" + "0" * 64
        label = f"{op}: {where} -> {victim!r}"
    elif op == "many":
        model = dict(entries[0]) if entries else {"state": "finished", "characters": 1}
        count = rng.choice((1000, 20_000))
        for n in range(count):
            items[f"gone/{n:05}"] = model
        label = f"{count} entries not in the manifest"
    elif op == "drop":
        if entries:
            name = rng.choice(sorted(items))
            field_name = rng.choice(sorted(items[name])) if isinstance(items[name], dict) else ""
            if field_name:
                del items[name][field_name]
            label = f"drop {name}.{field_name}"
        else:
            label = "drop nothing"
    else:
        doc = rng.choice([{"items": []}, {"items": None}, {}, [], {"lockfile_version": 1}])
        label = f"document {json.dumps(doc)}"
    lock.write_bytes(dump_json(doc, rng))
    return f"lock: {op} {label}"


def mutate_lock_bytes(case: Case, lock: Path) -> str:
    rng = case.rng
    data = read_regular(lock) or b"{}"
    op = rng.choice(("truncate", "encoding", "bom", "nul", "flip", "conflict", "duplicate",
                     "empty", "huge"))
    at = rng.randrange(len(data) + 1)
    if op == "truncate":
        data = data[:at]
    elif op == "encoding":
        data = data[:at] + b"\xff\xc3\x28" + data[at:]
    elif op == "bom":
        data = b"\xef\xbb\xbf" + data
    elif op == "nul":
        data = data[:at] + b"\x00" + data[at:]
    elif op == "flip" and data:
        data = data[: min(at, len(data) - 1)] + bytes([data[min(at, len(data) - 1)] ^ 0x20]) + (
            data[min(at, len(data) - 1) + 1 :]
        )
    elif op == "conflict":
        data = b"<<<<<<< HEAD\n" + data + b"=======\n{}\n>>>>>>> branch\n"
    elif op == "duplicate":
        data = data.replace(b"{\n", b'{\n  "lockfile_version": 1,\n', 1)
    elif op == "empty":
        data = b""
    else:
        data = b'{"items": {}, "lockfile_version": 1, "x": "' + b"y" * (30 << 20) + b'"}\n'
    clear(lock)
    lock.write_bytes(data)
    return f"lock bytes: {op}@{at}"


def mutate_journal(case: Case, template: Path) -> str:
    """A journal left behind in .voxform/, with records voxform would not write."""
    rng = case.rng
    doc = lock_doc(ensure_lockfile(case, template)) or {"items": {}}
    names = sorted(doc["items"]) or ["welcome"]
    entry = doc["items"].get(names[0])
    model = dict(entry) if isinstance(entry, dict) else {"state": "finished"}
    pending = dict(model, state="pending", job_id="job-1", token="t" * 32)
    lines = [
        json.dumps({"at": 1.0, "entry": model, "id": rng.choice(names)}).encode(),
        json.dumps({"at": 1.0, "entry": None, "id": rng.choice(names)}).encode(),
        json.dumps({"at": 1.0, "entry": pending, "id": rng.choice(names)}).encode(),
        json.dumps({"at": 1.0, "entry": model, "id": hostile_id(rng)}).encode(),
        b'{"at": 1e999, "entry": null, "id": "welcome"}', b'{"at": "x", "id": "welcome"}',
        b"[" * 100_000, b"\xff\xfe", b'{"id": "welcome", "entry": ' + b"1" + b"0" * 5000 + b"}",
        b"x" * (5 << 20), b"{}", b"null",
    ]
    chosen = rng.sample(lines, rng.randint(1, 4))
    folder = case.relative(".voxform")
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return "journal: no .voxform"
    folder.mkdir(exist_ok=True)
    data = b"\n".join(chosen) + (b"\n" if rng.random() < 0.7 else b"")
    write_file(folder / "voxform.lock.journal", data)
    return f"journal: {len(chosen)} records ({chosen[0][:40]!r})"


def mutate_plant(case: Case, template: Path) -> str:
    """A symlink, hard link, FIFO or directory where voxform writes or reads."""
    rng, s = case.rng, case.sentinel
    plants: list[tuple[str, str, str]] = [  # (where, kind, what)
        ("build/audio/welcome.mp3", "symlink", "../../templates/plain.ssml.j2"),
        ("build/audio/welcome.vtt", "symlink", "../../voxform.yaml"),
        ("build/audio/lesson-01.mp3", "symlink", f"{s}/victim.txt"),
        ("build/audio/guest-tip.wav", "symlink", f"{s}/new-file"),
        ("build/audio/welcome.mp3", "symlink", "welcome.mp3"),
        ("build/audio/chapters", "symlink", f"{s}/dir"),
        ("build/audio", "symlink", "../templates"),
        ("build", "symlink", f"{s}/build"),
        ("subtitles", "symlink", str(s)),
        (".voxform", "symlink", f"{s}/state"),
        (".voxform/apply.lease", "symlink", f"{s}/victim.txt"),
        (".voxform/voxform.lock.journal", "symlink", f"{s}/victim.txt"),
        (".voxform/stat-cache.json", "symlink", f"{s}/victim.txt"),
        ("voxform.lock", "symlink", f"{s}/lock.json"),
        ("build/audio/welcome.mp3", "hardlink", f"{s}/victim.txt"),
        ("build/audio/welcome.mp3", "hardlink", "templates/plain.ssml.j2"),
        ("build/audio/welcome.srt", "hardlink", "voxform.yaml"),
        ("build/audio/welcome.mp3", "fifo", ""),
        ("build/audio/welcome.mp3", "symlink", "/dev/zero"),
        ("build/audio/welcome.mp3", "directory", ""),
        ("voxform.lock", "fifo", ""),
        ("voxform.lock", "symlink", "/dev/zero"),
        ("voxform.lock", "directory", ""),
        (".voxform/voxform.lock.journal", "fifo", ""),
        (".voxform/stat-cache.json", "symlink", "/dev/zero"),
        ("texts/chapters/03-fifo.md", "fifo", ""),
        ("texts/chapters/03-zero.md", "symlink", "/dev/zero"),
        ("texts/chapters/03-out.md", "symlink", f"{s}/secret.md"),
        ("texts/chapters/loop", "symlink", "."),
        ("templates/plain.ssml.j2", "symlink", f"{s}/secret.j2"),
        ("templates/plain.ssml.j2", "fifo", ""),
        ("texts/lesson-01.md", "symlink", "/dev/zero"),
    ]
    if case.example != "quickstart":
        plants = [p for p in plants if not p[0].startswith(("texts/", "templates/"))
                  and "templates/" not in p[2]]
    where, kind, what = rng.choice(plants)
    if where == "voxform.lock" or where.startswith(".voxform/voxform.lock"):
        ensure_lockfile(case, template)
    path = case.relative(where)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear(path)
    if kind == "symlink":
        path.symlink_to(what)
    elif kind == "hardlink":
        os.link(what if what.startswith("/") else case.relative(what), path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    return f"plant: {where} {kind} {what}".rstrip()


# name, weight, weight when the case applies: an apply needs a manifest that still loads to
# write anything, so those cases lean on the lockfile, the journal, texts and plants.
MUTATORS: list[tuple[str, int, int]] = [
    ("manifest", 5, 1), ("bytes", 2, 0), ("include", 1, 0), ("template", 4, 1), ("text", 3, 2),
    ("lock", 4, 4), ("journal", 1, 2), ("plant", 3, 5),
]


def mutate(case: Case, template: Path, applies: bool) -> None:
    names = [n for n, _, _ in MUTATORS]
    weights = [apply_weight if applies else weight for _, weight, apply_weight in MUTATORS]
    for name in case.rng.choices(names, weights, k=case.rng.randint(1, 3)):
        if name == "manifest":
            note = mutate_manifest(case)
        elif name == "bytes":
            note = mutate_manifest_bytes(case)
        elif name == "include":
            note = mutate_include(case)
        elif name == "template":
            note = mutate_template(case)
        elif name == "text":
            note = mutate_text(case)
        elif name == "lock":
            note = mutate_lockfile(case, template)
        elif name == "journal":
            note = mutate_journal(case, template)
        else:
            note = mutate_plant(case, template)
        case.mutations.append(note)


def tracked_files(example: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", "."], cwd=REPO / "examples" / example,
        capture_output=True, check=True,
    )
    return sorted(n for n in listed.stdout.decode().split("\0") if n)


def make_templates(base: Path, env: dict[str, str]) -> Path:
    """One copy of each example as git tracks it; the quickstart applied once for real."""
    templates = base / "templates"
    for example in EXAMPLES:
        for name in tracked_files(example):
            target = templates / example / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / "examples" / example / name, target)
    quickstart = templates / "quickstart"
    done = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", str(quickstart), "apply", "--yes"],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
    if done.returncode != 0 or not (quickstart / "voxform.lock").is_file():
        raise SystemExit(f"the quickstart did not apply:\n{done.stdout}{done.stderr}")
    return templates


def build_case(number: int, seed: int, base: Path, templates: Path, applies: bool = False) -> Case:
    """Case `number`'s directory tree under base/case-NUMBER, mutated; the same every time."""
    rng = random.Random(seed + number)
    root = base / f"case-{number}"
    if root.exists():
        shutil.rmtree(root)
    example = rng.choices(EXAMPLES, weights=(3, 1))[0]
    project, sentinel = root / "p/q/project", root / "p/q/sentinel"
    shutil.copytree(templates / example, project, symlinks=True)
    if example == "quickstart" and rng.random() < 0.15:
        shutil.rmtree(project / "build")  # a fresh clone: the audio is not there
    for folder in ("dir", "state", "build"):
        (sentinel / folder).mkdir(parents=True)
    for where in (root, root / "p", root / "p/q", sentinel):
        (where / "victim.txt").write_text("must not change\n")
    (sentinel / "secret.md").write_text("A secret from outside the project.\n")
    (sentinel / "secret.j2").write_text("<speak>{{ text }} secret</speak>\n")
    shutil.copyfile(templates / "quickstart" / "voxform.lock", sentinel / "lock.json")
    (root / "home").mkdir()
    case = Case(number, root, project, sentinel, rng, example)
    mutate(case, templates, applies)
    return case


# -- running voxform -------------------------------------------------------------------------


@dataclass
class Run:
    command: str
    outcome: str
    code: int | None
    seconds: float
    max_rss_kb: int
    problem: str = ""  # the line that explains a failure
    outside: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def marked_processes(marker: str) -> list[int]:
    """Processes whose environment carries this case's marker (what its commands started)."""
    needle = f"{MARKER}={marker}".encode() + b"\0"
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as environ:
                    if needle in environ.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def kill_marked(marker: str) -> int:
    pids = marked_processes(marker)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def run_voxform(args: list[str], case: Case, env: dict[str, str], timeout: float,
                logs: Path) -> tuple[Run, str, str]:
    """One command in its own process group; its outcome, stdout and stderr."""
    name = args[0]
    with (logs / f"{name}.out").open("wb") as out, (logs / f"{name}.err").open("wb") as err:
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "voxform", "-C", str(case.project), *args],
            cwd=case.root, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,
        )
        hung = heavy = flood = False
        pause = 0.002
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                hung = True
            elif rss_kb(process.pid) > HARD_MEMORY_KB:
                heavy = True
            elif printed(logs, name) > OUTPUT_LIMIT:
                flood = True
            if hung or heavy or flood:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(pause)
            pause = min(pause * 1.5, 0.02)
        seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code  # reaped here: Popen must not wait for it
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    stdout, stderr = (read_log(logs / f"{name}.{kind}") for kind in ("out", "err"))
    text = stdout + stderr
    if hung:
        outcome, problem = "hang", f"killed after {timeout:g} s"
    elif flood:
        outcome, problem = "hang", f"killed after printing {OUTPUT_LIMIT >> 20} MB"
    elif heavy or usage.ru_maxrss > MEMORY_LIMIT_KB:
        outcome, problem = "memory", f"peak RSS {usage.ru_maxrss // 1024} MB"
    elif TRACEBACK in text:
        outcome, problem = "traceback", explain_traceback(text)
        if problem.startswith("MemoryError"):  # at the address-space cap, not a bug of its own
            outcome, problem = "memory", f"{problem} (RLIMIT_AS {ADDRESS_SPACE >> 30} GB)"
    elif code in (0, 1, 2):
        outcome, problem = f"exit {code}", first_error(stderr) if code else ""
    else:
        outcome, problem = "crash", f"exit {code}: " + last_line(stderr)
    return Run(name, outcome, code, seconds, usage.ru_maxrss, problem), stdout, stderr


def read_log(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(50 << 20).decode("utf-8", "replace")


def printed(logs: Path, name: str) -> int:
    return sum((logs / f"{name}.{kind}").stat().st_size for kind in ("out", "err"))


def first_error(text: str) -> str:
    """The first line saying what went wrong, for the --results file."""
    return next((line[:300] for line in text.splitlines() if "error" in line.lower()), "")


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def explain_traceback(text: str) -> str:
    """The exception and the innermost voxform frame of the first traceback in `text`."""
    tail = text[text.rindex(TRACEBACK) :].splitlines()
    frames = [line.strip() for line in tail if line.strip().startswith('File "')]
    ours = [f for f in frames if "/voxform/" in f] or frames
    exception = next((line for line in tail[1:] if line and not line.startswith(" ")), "")
    exception = exception or last_line(text)
    where = re.sub(r'File ".*?/(voxform/[^"]+)"', r"\1", ours[-1]) if ours else ""
    return f"{exception[:240]} [{where}]"


def check_output(run: Run, stdout: str, stderr: str) -> None:
    """Notes on what a log reader would see: forged workflow commands, raw control
    characters, a plan --json that is not one JSON object."""
    logs = stderr if run.command == "plan" else stdout + stderr
    for line in logs.splitlines():
        if line.lstrip().startswith("::") and not line.lstrip().startswith(GITHUB_COMMANDS):
            run.notes.append(f"log injection: line {line[:60]!r}")
            break
    bad = CONTROL.search(logs)
    if bad:
        run.notes.append(f"log injection: raw {bad.group()!r} in output")
    if run.command == "plan" and run.code in (0, 1) and run.outcome.startswith("exit"):
        try:
            if not isinstance(json.loads(stdout), dict):
                raise ValueError("not an object")
        except ValueError as exc:
            run.notes.append(f"bad json: {exc}"[:200])


# -- outside changes -------------------------------------------------------------------------

OUTPUT_DIRS = {"build", "subtitles", ".voxform"}
OUTPUT_SUFFIXES = (".mp3", ".wav", ".pcm", ".srt", ".vtt", ".tmp")


def is_output(relative: tuple[str, ...]) -> bool:
    """Paths (relative to the project) that voxform may write."""
    first = relative[0]
    return first in OUTPUT_DIRS or first == "voxform.lock" or (
        len(relative) == 1 and first.startswith(".voxform.lock.")
    )


def snapshot(case: Case) -> dict[str, tuple[object, ...]]:
    """Every entry under the case's root but the project's outputs and the logs."""
    found: dict[str, tuple[object, ...]] = {}
    project = case.project.relative_to(case.root).parts
    for folder, dirs, files in os.walk(case.root):
        here = Path(folder).relative_to(case.root).parts
        if here == ("logs",):
            dirs.clear()
            continue
        outputs = {
            name for name in [*dirs, *files]
            if here[: len(project)] == project and len(here) + 1 > len(project)
            and is_output((*here, name)[len(project) :])
        }
        dirs[:] = [d for d in dirs if d not in outputs and not Path(folder, d).is_symlink()]
        for name in [*dirs, *files]:
            if name in outputs:
                continue
            parts = (*here, name)
            path = Path(folder, name)
            info = path.lstat()
            key = "/".join(parts)
            if stat.S_ISLNK(info.st_mode):
                found[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                with path.open("rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
                found[key] = ("file", info.st_size, info.st_mtime_ns, info.st_mode, digest)
            elif stat.S_ISDIR(info.st_mode):
                found[key] = ("dir", info.st_mode)
            else:
                found[key] = ("special", info.st_mode)
    return found


def changed(case: Case, before: dict[str, tuple[object, ...]]) -> list[str]:
    after = snapshot(case)
    project = case.project.relative_to(case.root).as_posix() + "/"
    problems = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None and key.startswith(project) and new is not None and (
            new[0] == "dir" or key.endswith(OUTPUT_SUFFIXES)
        ):
            continue  # audio or subtitles where a (mutated) target puts them
        what = "new" if old is None else "gone" if new is None else "changed"
        problems.append(f"{what}: {key}")
    return problems


# -- one case --------------------------------------------------------------------------------


@dataclass
class Options:
    seed: int
    timeout: float
    apply_timeout: float
    apply_every: int
    base: Path
    templates: Path
    keep: bool = False
    verbose: bool = False


def child_env(case: Case, github: bool, trap_port: int) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("ALIBABA_CLOUD_", "VOXFORM_", "GITHUB_", "GITLAB_"))
        and k not in ("CI", "NO_COLOR") and "proxy" not in k.lower()
    }
    trap = f"http://127.0.0.1:{trap_port}"
    env.update({
        "HOME": str(case.root / "home"), MARKER: str(case.root),
        "HTTP_PROXY": trap, "HTTPS_PROXY": trap, "ALL_PROXY": trap,
        "http_proxy": trap, "https_proxy": trap, "all_proxy": trap,
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    if github:
        env["GITHUB_ACTIONS"] = "true"
    return env


def planned_characters(stdout: str) -> int:
    try:
        summary = json.loads(stdout)["summary"]
        return int(summary.get("characters", 0))
    except (ValueError, KeyError, TypeError):
        return 0


class Stuck(Exception):
    """The fuzzer itself took too long over a case."""


def _stuck(signum: int, frame: object) -> None:
    raise Stuck("the fuzzer spent longer on this case than its commands may take")


def run_case(number: int, options: Options) -> dict[str, Any]:
    signal.signal(signal.SIGALRM, _stuck)
    signal.alarm(int(2 * options.timeout + options.apply_timeout + 60))
    try:
        return _run_case(number, options)
    except Exception:
        return {"case": number, "mutations": [], "runs": [], "error": traceback.format_exc()}
    finally:
        signal.alarm(0)


def _run_case(number: int, options: Options) -> dict[str, Any]:
    apply = options.apply_every > 0 and number % options.apply_every == 0
    case = build_case(number, options.seed, options.base, options.templates, apply)
    github = case.rng.random() < 1 / 3
    logs = case.root / "logs"
    logs.mkdir()
    before = snapshot(case)
    runs: list[Run] = []
    with socket.socket() as trap:
        trap.bind(("127.0.0.1", 0))
        trap.listen(16)
        trap.setblocking(False)
        env = child_env(case, github, trap.getsockname()[1])
        commands: list[list[str]] = [["validate"], ["plan", "--json"]]
        for args in commands:
            run, stdout, stderr = run_voxform(args, case, env, options.timeout, logs)
            finish_run(run, case, before, trap, stdout, stderr, options)
            runs.append(run)
        if apply:
            if planned_characters(stdout) > APPLY_CHARACTER_BUDGET:
                runs.append(Run("apply", "skipped", None, 0.0, 0, "too many characters"))
            else:
                args = ["apply", "--yes"] + (["--prune"] if number // options.apply_every % 2
                                             else [])
                run, stdout, stderr = run_voxform(args, case, env, options.apply_timeout, logs)
                finish_run(run, case, before, trap, stdout, stderr, options)
                runs.append(run)
    if not options.keep:
        shutil.rmtree(case.root, ignore_errors=True)
    return {
        "case": number, "example": case.example, "github": github, "apply": apply,
        "mutations": case.mutations, "runs": [asdict(r) for r in runs],
        "root": str(case.root),
    }


def finish_run(run: Run, case: Case, before: dict[str, tuple[object, ...]],
               trap: socket.socket, stdout: str, stderr: str, options: Options) -> None:
    run.outside = changed(case, before)
    try:
        while True:
            connection, _ = trap.accept()
            connection.close()
            run.notes.append("network: a connection reached the proxy trap")
    except BlockingIOError:
        pass
    check_output(run, stdout, stderr)
    deadline = time.monotonic() + 2
    while marked_processes(str(case.root)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = kill_marked(str(case.root))
    if left:
        run.notes.append(f"left running: {left} process(es) after {run.command}")
    if options.verbose:
        print(f"--- {run.command}: {run.outcome} in {run.seconds:.2f} s, "
              f"peak {run.max_rss_kb // 1024} MB {run.problem}")
        for line in (stdout + stderr).splitlines()[:40]:
            print("    " + line[:200])
        for item in [*run.outside, *run.notes]:
            print(f"    ! {item}")


# -- the report ------------------------------------------------------------------------------


def classes(result: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """For one case: failure or note class -> [(command, one line)]."""
    found: dict[str, list[tuple[str, str]]] = {}
    if result.get("error"):
        found["fuzzer error"] = [("-", last_line(result["error"]))]
    for run in result["runs"]:
        if run["outcome"] in ("traceback", "hang", "memory", "crash"):
            found.setdefault(run["outcome"], []).append((run["command"], run["problem"]))
        if run["outside"]:
            found.setdefault("outside", []).append((run["command"], ", ".join(run["outside"][:4])))
        for note in run["notes"]:
            kind = note.split(":", 1)[0]
            if kind == "network" and run["command"] == "apply":
                kind = "network (apply)"  # the service is ICE's: a note, not a failure
            found.setdefault(kind, []).append((run["command"], note))
    return found


def report(results: list[dict[str, Any]], options: Options, elapsed: float,
           argv_extra: str) -> int:
    by_command: dict[str, Counter[str]] = {c: Counter() for c in ("validate", "plan", "apply")}
    slowest = (0.0, -1, "")
    peak = (0, -1, "")
    finished: dict[str, tuple[float, int, int, int]] = {}  # command -> (s, case, KB, case)
    for result in results:
        for run in result["runs"]:
            by_command[run["command"]][run["outcome"]] += 1
            slowest = max(slowest, (run["seconds"], result["case"], run["command"]))
            peak = max(peak, (run["max_rss_kb"], result["case"], run["command"]))
            if run["outcome"].startswith("exit"):
                s, s_case, kb, kb_case = finished.get(run["command"], (0.0, -1, 0, -1))
                if run["seconds"] > s:
                    s, s_case = run["seconds"], result["case"]
                if run["max_rss_kb"] > kb:
                    kb, kb_case = run["max_rss_kb"], result["case"]
                finished[run["command"]] = (s, s_case, kb, kb_case)
    per_case = [(r, classes(r)) for r in results]
    case_counts = Counter(kind for _, found in per_case for kind in found)
    print(f"\n{'outcome':<32}{'validate':>9}{'plan':>7}{'apply':>7}{'cases':>7}")
    for outcome in (*OUTCOMES, "skipped"):
        row = [by_command[c][outcome] for c in ("validate", "plan", "apply")]
        print(f"{LABELS.get(outcome, outcome):<32}{row[0]:>9}{row[1]:>7}{row[2]:>7}"
              f"{case_counts.get(outcome, '') if outcome in FAILURES else '':>7}")
    for kind in ("outside", "network", "network (apply)", "fuzzer error", *NOTES):
        print(f"{LABELS.get(kind, kind):<32}{'':>23}{case_counts.get(kind, 0):>7}")
    print(f"\ncases: {len(results)} (apply on {sum(1 for r in results if r.get('apply'))})")
    print(f"slowest: {slowest[0]:.2f} s, case {slowest[1]} {slowest[2]}")
    print(f"peak RSS: {peak[0] / 1024:.0f} MB, case {peak[1]} {peak[2]}")
    for command, (s, s_case, kb, kb_case) in sorted(finished.items()):
        print(f"  {command} that exited: slowest {s:.2f} s (case {s_case}), "
              f"peak RSS {kb / 1024:.0f} MB (case {kb_case})")
    print(f"run time: {elapsed:.0f} s")
    for kind in (*FAILURES, "network (apply)", *NOTES):
        hits = [(r, found[kind]) for r, found in per_case if kind in found]
        if not hits:
            continue
        print(f"\n{LABELS.get(kind, kind)}: {len(hits)} case(s)")
        for result, lines in hits[:5]:
            command, line = lines[0]
            print(f"  case {result['case']} {command}: {line[:300]}")
            print(f"    mutations: {'; '.join(result['mutations'])[:300]}")
            print(f"    python bench/fuzz.py --seed {options.seed} --only {result['case']}"
                  f"{argv_extra}")
    failed = {k: case_counts.get(k, 0) for k in FAILURES}
    print(
        f"\nfuzz: {len(results)} cases, seed {options.seed}: {failed['traceback']} tracebacks, "
        f"{failed['hang']} hangs, {failed['memory']} over 500 MB, {failed['crash']} crashes, "
        f"{failed['outside']} with files changed outside outputs, {failed['network']} reaching "
        f"for the network, {failed['fuzzer error']} fuzzer errors"
    )
    return 1 if any(failed.values()) else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for validate, plan")
    parser.add_argument("--apply-timeout", type=float, default=60.0)
    parser.add_argument("--apply-every", type=int, default=10, help="0: never apply")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", type=int, default=None, help="replay one case and keep it")
    parser.add_argument("--results", type=Path, default=None, help="write every case as JSON")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed}", flush=True)
    # A runaway allocation, ours or voxform's, fails there instead of waking the OOM killer.
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, hard))
    base = Path(tempfile.mkdtemp(prefix="voxform-fuzz-"))
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_", "VOXFORM_"))}
    options = Options(seed, args.timeout, args.apply_timeout, args.apply_every, base,
                      make_templates(base, env), keep=args.only is not None,
                      verbose=args.only is not None)
    extra = "" if args.apply_every == 10 else f" --apply-every {args.apply_every}"
    extra += "" if args.timeout == 10 else f" --timeout {args.timeout:g}"
    if args.only is not None:
        result = run_case(args.only, options)
        print("mutations:\n  " + "\n  ".join(result["mutations"]))
        if result.get("error"):
            print(result["error"])
        print(f"kept: {result.get('root', base)}")
        sys.exit(report([result], options, time.monotonic() - started, extra))
    results: list[dict[str, Any]] = []
    try:
        # A case takes at most its commands' timeouts and some seconds of checks; a worker
        # that does not answer in that time is gone (imap would wait for it for ever).
        patience = 2 * args.timeout + args.apply_timeout + 120
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            answers = pool.imap_unordered(
                _pool_case, [(n, options) for n in range(args.cases)], chunksize=1
            )
            while len(results) < args.cases:
                try:
                    results.append(answers.next(timeout=patience))
                except multiprocessing.TimeoutError:
                    lost = sorted(set(range(args.cases)) - {r["case"] for r in results})
                    results += [{"case": n, "mutations": [], "runs": [],
                                 "error": "no answer: a worker was lost"} for n in lost]
                    break
                if len(results) % 50 == 0:
                    print(f"  {len(results)}/{args.cases} cases, "
                          f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
            pool.terminate()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results.sort(key=lambda r: r["case"])
    if args.results:
        args.results.write_text(json.dumps(results, indent=1))
    sys.exit(report(results, options, time.monotonic() - started, extra))


def _pool_case(job: tuple[int, Options]) -> dict[str, Any]:
    return run_case(*job)


if __name__ == "__main__":
    main()
