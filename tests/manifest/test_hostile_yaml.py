"""Hostile manifests get one sentence at file:line:col and exit 1: no hang, no traceback.

validate runs on pull requests, so a manifest that makes it hang or crash is a denial of
service. Cases that hung or ate memory before run in a subprocess with a timeout and an
address-space limit, a safety net only: nothing here is timed.
"""

from __future__ import annotations

import json
import textwrap

from conftest import Runner, bounded_validate

HEAD = """\
version: 1
targets: {local: {provider: local, path: out}}
voices: {n: {voice: siqi}}
defaults: {voice: n}
items:
  - {id: a, text: Hello.}
"""


def errors(result_output: str) -> list[str]:
    return [line for line in result_output.splitlines() if ": error: " in line]


def test_an_alias_bomb_is_refused_where_it_grows_too_large(project) -> None:
    laughs = "lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
    )
    root = project({"voxform.yaml": HEAD + "anchors:\n" + textwrap.indent(laughs, "  ")})
    code, document = bounded_validate(root)
    assert code == 1
    [error] = [e for e in document["errors"] if e["rule"] == "yaml-limit"]
    # lol5 is the first value whose aliases expand past the budget: 1 + 9 * 66,430 values.
    assert (error["file"], error["line"], error["column"]) == ("voxform.yaml", 13, 9)
    assert error["message"] == (
        "the value anchored &a5 expands through YAML aliases to 597,871 values, over the limit "
        "of 100,000 for all manifests together; write fewer aliases of aliases"
    )


def test_aliases_within_the_budget_still_share_values(project, voxform: Runner) -> None:
    manifest = HEAD.replace("voices: {n: {voice: siqi}}", "voices: {n: &v {voice: siqi}}") + (
        "".join(f"  - {{id: i{i}, text: Hi., vars: *v}}\n" for i in range(200))
    )
    result = voxform(project({"voxform.yaml": manifest}), "validate")
    assert result.exit_code == 0, result.output


def test_a_collection_that_contains_its_own_alias_is_refused(project, voxform: Runner) -> None:
    root = project({"voxform.yaml": HEAD + "loop: &r [a, *r]\n"})
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert errors(result.output)[0] == (
        "voxform.yaml:7:7: error: this collection contains an alias of itself (&r ... *r), "
        "which would never end"
    )


def test_deep_nesting_is_refused_at_the_level_past_the_limit(project, voxform: Runner) -> None:
    root = project({"voxform.yaml": HEAD + "deep: " + "[" * 500 + "]" * 500 + "\n"})
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert errors(result.output) == [
        "voxform.yaml:7:38: error: YAML nested more than 32 levels deep; a manifest needs far fewer"
    ]


def test_aliases_cannot_nest_deeper_than_writing_it_out_could(project, voxform: Runner) -> None:
    chain = "c0: &c0 " + "[" * 20 + "]" * 20 + "\n"
    chain += "".join(f"c{i}: &c{i} {'[' * 20}*c{i - 1}{']' * 20}\n" for i in range(1, 4))
    root = project({"voxform.yaml": HEAD + "chain:\n" + textwrap.indent(chain, "  ")})
    result = voxform(root, "validate")
    assert result.exit_code == 1
    # c1's innermost list holds *c0: 22 levels around 20 more.
    assert errors(result.output) == [
        "voxform.yaml:9:30: error: YAML nested more than 32 levels deep; a manifest needs far fewer"
    ]


def test_a_control_character_is_refused_at_its_position(project, voxform: Runner) -> None:
    root = project({"voxform.yaml": HEAD + "name: a\x01b\n"})
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert errors(result.output) == [
        "voxform.yaml:7:8: error: control character U+0001 is not allowed in YAML"
    ]


def test_an_oversized_manifest_is_refused_before_it_is_parsed(project, voxform: Runner) -> None:
    filler = "# " + "x" * 98 + "\n"
    root = project(
        {
            "voxform.yaml": HEAD + "include: [more/*.yaml]\n",
            "more/big.yaml": "items: []\n" + filler * 11_000,
        }
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert errors(result.output) == [
        "more/big.yaml:1:1: error: the file is 1,111,010 bytes; a manifest file may hold "
        "at most 1,000,000 (split it into files that voxform.yaml includes)"
    ]


def test_values_python_cannot_hold_are_errors_at_their_place(project, voxform: Runner) -> None:
    item = "  - {id: b, text: Hi., vars: {day: 2001-13-45}}\n"
    numbers = f"name: {'1' * 5000}\nvoices: {{n: {{voice: siqi, volume: 0x{'f' * 5000}}}}}\n"
    root = project(
        {"voxform.yaml": HEAD.replace("voices: {n: {voice: siqi}}\n", "") + item + numbers}
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert errors(result.output)[:3] == [
        "voxform.yaml:6:36: error: not a valid date (month must be in 1..12)",
        "voxform.yaml:7:7: error: a number of 5000 digits is too long; quote it if it is text",
        "voxform.yaml:8:35: error: a number of 5002 digits is too long; quote it if it is text",
    ]


def test_a_merge_key_may_be_overridden(project, voxform: Runner) -> None:
    manifest = HEAD.replace(
        "voices: {n: {voice: siqi}}",
        "voices:\n  base: &base {voice: siqi, volume: 50}\n  n: {<<: *base, volume: 70}",
    )
    root = project({"voxform.yaml": manifest})
    assert voxform(root, "validate").exit_code == 0
    result = voxform(root, "render", "a", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["voice"]["volume"] == 70


def test_the_value_budget_is_shared_by_all_included_files(project, voxform: Runner) -> None:
    many = "numbers: [" + "1, " * 60_000 + "]\n"
    root = project(
        {
            "voxform.yaml": HEAD + "include: [more/*.yaml]\n",
            "more/a.yaml": many,
            "more/b.yaml": many,
        }
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert (
        "more/b.yaml:1:10: error: the manifests hold more than 100,000 keys, values and list "
        "entries in all; make many items from text files with sources: instead"
    ) in errors(result.output)


def test_include_patterns_pathlib_cannot_glob_are_errors(project, voxform: Runner) -> None:
    manifest = HEAD + "include: ['.', './', 'more/a**b', more/*.yaml, more/*.yaml]\n"
    root = project({"voxform.yaml": manifest, "more/b.yaml": "items: [{id: b, text: Hi.}]\n"})
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert errors(result.output) == [
        "voxform.yaml:7:11: error: include '.' is not a glob of files; write one such as "
        "'narrations/*.yaml'",
        "voxform.yaml:7:16: error: include './' is not a glob of files; write one such as "
        "'narrations/*.yaml'",
        "voxform.yaml:7:22: error: include 'more/a**b' is not a glob of files: Invalid pattern: "
        "'**' can only be an entire path component; write one such as 'narrations/*.yaml'",
    ]  # and more/b.yaml, named twice, is read once: no duplicate id 'b'
