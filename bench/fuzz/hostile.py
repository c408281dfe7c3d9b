"""Hostile values a mutation puts into a case: numbers, strings, paths, ids, raw YAML and JSON
a dumper cannot write, Jinja snippets and text sources."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path


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
    return rng.choice(
        [
            Raw("1" + "0" * 5000, "10**5000"),
            Raw("-0x" + "f" * 5000, "5000-digit hex"),
            Raw("1e999", "1e999"),
            Raw(".nan", "nan"),
            Raw("-.inf", "-inf"),
            Raw("!!float 1e5000", "!!float 1e5000"),
            Raw("[" * depth + "]" * depth, f"[ nested {depth}"),
            Raw("{a: " * depth + "1" + "}" * depth, f"{{ nested {depth}"),
            Raw(laughs(), "billion laughs"),
            Raw("&self [*self]", "recursive list"),
            Raw("&me {a: *me}", "recursive map"),
            Raw('"\\uD800"', "lone surrogate"),
            Raw('"\\0\\a\\e"', "escaped controls"),
            Raw(f"!!python/object/apply:os.system ['touch {sentinel}/pwned']", "python tag"),
            Raw("!!binary aGVsbG8=", "binary"),
            Raw("2024-01-01", "date"),
            Raw("2001-12-14t21:59:43.10-05:00", "timestamp"),
            Raw("!!set {a, b}", "set"),
            Raw("{[a, b]: 1}", "complex key"),
            Raw("{? a}", "key without value"),
            Raw("1:20", "sexagesimal"),
            Raw("0o17", "octal"),
            Raw("yes", "yes"),
            Raw("=", "="),
            Raw("!unknown x", "unknown tag"),
            Raw("*nowhere", "undefined alias"),
            Raw("{<<: [1, 2]}", "bad merge"),
        ]
    )


def unicode_strings(rng: random.Random) -> str:
    return rng.choice(
        [
            "\u202eevil.mp3",
            "😀" * 1000,
            "\x00",
            "a\x00b",
            "\x07\x1b[31mred\x1b[0m\x9b2J",
            "\n::add-mask::x",
            "x\r\n::error file=voxform.yaml::forged",
            "\u2028\u2029",
            "\ufeff",
            "e" + "\u0301" * 5000,
            "\t",
            "مرحبا بالعالم",
            "\u200b",
            "%0A::add-mask::x",
            "\\",
        ]
    )


def pathish(rng: random.Random, sentinel: Path, *, read_only: bool = False) -> str:
    """Paths that should be refused or kept inside; `read_only` adds system files, for
    values voxform only ever reads."""
    options = [
        "../x",
        "../../x",
        "../../../victim.txt",
        "../sentinel/victim.txt",
        f"{sentinel}/x",
        str(sentinel),
        f"{sentinel}/victim.txt",
        "a/./b",
        "a//b",
        "./build",
        "x" * 300,
        "build/../build/audio",
        "/".join(["d"] * 100),
        "~/x",
        "$HOME/x",
        "C:\\x",
        "build\\audio",
        " ",
        "",
        ".",
        "..",
        "texts/*",
        "texts/**",
        "**",
        "[",
        "texts/chapters/[!0]*.md",
        "voxform.yaml",
        "voxform.lock",
        ".voxform",
        ".voxform/x",
        ".git/x",
        "templates/plain.ssml.j2",
        "build/audio/../../templates",
        "-rf",
        "--help",
        "\n::add-mask::x",
        "build/\u202e3pm.exe",
        "nul",
        "a\x00b",
        "x/" + "y" * 256,
    ]
    if read_only:
        options += [
            "/etc/passwd",
            "/dev/zero",
            "/proc/self/environ",
            "/dev/stdin",
            "../../../../../../../../etc/hostname",
            "/proc/self/fd/0",
        ]
    return rng.choice(options)


def hostile_id(rng: random.Random) -> str:
    return rng.choice(
        [
            "..",
            "a/..",
            "a/../b",
            "../welcome",
            "welcome/..",
            "a/../../../victim",
            "./a",
            "a/./b",
            "a//b",
            "/abs",
            "A",
            "welcome ",
            "x" * 300,
            "é",
            "a\x00",
            "con",
            "welcome.mp3",
            "-",
            ".hidden",
            "a/",
            "lesson-01",
            "chapters/01-basics/p1",
            "chapters/01-basics/p1-1",
            "welcome/x",
            "a" * 200 + "/" + "b" * 200,
            "\n::add-mask::x",
            "*",
            "a b",
        ]
    )


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


def json_raw(rng: random.Random) -> Raw:
    depth = rng.choice((500, 100_000))
    return rng.choice(
        [
            Raw("1" + "0" * 5000, "5000 digits"),
            Raw("1e999", "1e999"),
            Raw("NaN", "NaN"),
            Raw("-Infinity", "-Infinity"),
            Raw("[" * depth + "]" * depth, f"[ nested {depth}"),
            Raw('{"a":' * depth + "1" + "}" * depth, f"{{ nested {depth}"),
            Raw('"\\ud800"', "lone surrogate"),
            Raw('"\\u0000"', "NUL"),
            Raw("-0", "-0"),
            Raw("1.0e-400", "underflow"),
            Raw('"' + "x" * (1 << 20) + '"', "1 MB string"),
        ]
    )


HOSTILE_JINJA = (
    "{{ range(10**9)|list }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    '{{ "%0999999999d" % 1 }}',
    '{{ "x" * 10**9 }}',
    "{{ 10**10**10 }}",
    "{{ 9**9**9 }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    '{% include "<self>" %}',
    '{% extends "<self>" %}',
    '{% import "<self>" as x %}{{ x }}',
    "{{ text|truncate(-1) }}",
    "{{ [1,2]|random }}",
    "{{ pause }}",
    "{{ cycler(1) }}",
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ item.__init__.__globals__ }}",
    "{{ pause.__globals__ }}",
    "{{ self }}",
    "<prosody rate='2'>x</prosody>",
    "<s>unbalanced",
    "</speak>",
    "<speak><speak>",
    '<!DOCTYPE x [<!ENTITY a "b">]>&a;',
    "<?xml-stylesheet href='x'?>",
    "<![CDATA[ x ]]>",
    "{{ pause(10**100) }}",
    "{{ pause(-1) }}",
    "{{ pause('x') }}",
    "{{ pause(0.5) }}",
    '{{ say_as(text, "<x>") }}',
    '{{ phoneme(text, "\\"/>", "cmu") }}',
    "{{ sub(text, 1) }}",
    "{{ text|center(10**9) }}",
    "{{ text|indent(10**9) }}",
    "{{ text|wordwrap(1) }}",
    '{{ text|replace("", "x" * 1000) }}',
    "{{ range(100000)|join(text) }}",
    "{{ (10**5000)|string }}",
    "{{ text|urlize }}",
    "{{ vars.nope }}",
    "{{ voice }}",
    "{{ item }}",
    "{{ vars }}",
    "{% set x = namespace(a=1) %}{{ x }}",
    "{%",
    "{{",
    "{# x",
    "{% raw %}",
    "{{ }}",
    "{% for %}",
    "{{ text|format(text) }}",
    '{{ "%s%s" % text }}',
    "{{ text|tojson }}",
    "{{ range(100000)|map('string')|join }}",
    "{{ lipsum() }}",
    "{{ dict(a=1).items() }}",
    "{{ [].append(1) }}",
    "{{ vars.update({'a': 1}) }}",
    "{{ text * 1000 }}",
    "{{ (text * 1000)|length }}",
    "\x00",
    "\ufeff",
    "\u202e",
)


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
        (lambda: b"", "empty"),
        (lambda: b" \n\t\n\n  \n", "whitespace"),
        (lambda: b"One.\r\n\r\nTwo.\rThree.\x0cFour.\xe2\x80\xa8Five.", "line endings"),
        (lambda: b"```\nunclosed <!-- x\n---\nx: 1\n---\n# H\n> " * 300, "markdown"),
        (lambda: b"Mr. Dr. e.g. i.e. U.S.A. 3.14 ... ?! " * 3000, "abbreviations"),
        (lambda: ("\n::add-mask::x\n" * 3).encode(), "workflow command"),
        (lambda: b"x" * 2001 + b". " + b"y" * 2001 + b".", "two chunks over the limit"),
    ]
    make, label = rng.choice(options)
    return make(), label
