"""validate reports every problem at once, each at its exact file:line:col."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import Runner

BROKEN = {
    "voxform.yaml": """
        version: 1
        targets:
          local: {provider: local, path: build/audio}
          escape: {provider: local, path: ../outside}
        voices:
          narrator: {voice: siqi, volume: 50}
          narrator: {voice: xiaoyun}
        defaults: {voice: narrator, template: plain, target: local}
        templates:
          plain: templates/plain.ssml.j2
          lesson: templates/lesson.ssml.j2
          missing: templates/nope.ssml.j2
          longpause: templates/longpause.ssml.j2
          prosody: templates/prosody.ssml.j2
        items:
          - id: a
            text: Hello.
            voise: narrator
          - id: b
            text: Hello.
            vars: [1, 2]
          - id: a
            text: Again.
          - id: c
            text: Hi.
            voice: narator
          - id: d
            text: Hi.
            template: lesson
          - id: e
            text: Hi.
            template: longpause
          - id: f
            text: Hi.
            template: prosody
          - id: g
            text: LONG
          - id: h
            source: ../etc/passwd
          - id: i
            text: Hi.
            title: TITLE
        """.replace("LONG", "word " * 500).replace("TITLE", "t" * 129),
    "templates/plain.ssml.j2": "<speak>{{ text }}</speak>\n",
    "templates/lesson.ssml.j2": "<speak>\n  <s>{{ vars.titel }}</s>\n  {{ text }}\n</speak>\n",
    "templates/longpause.ssml.j2": '<speak>\n{{ text }}\n<break time="11s"/>\n</speak>\n',
    "templates/prosody.ssml.j2": '<speak><prosody rate="fast">{{ text }}</prosody></speak>\n',
}

EXPECTED = [
    ("templates/lesson.ssml.j2", 2, 14, "titel"),
    ("templates/longpause.ssml.j2", 3, 8, 'break time="11s"'),
    ("templates/prosody.ssml.j2", 1, 8, "<prosody>"),
    ("voxform.yaml", 4, 35, "escapes the project root"),
    ("voxform.yaml", 7, 3, "duplicate key 'narrator'"),
    ("voxform.yaml", 12, 12, "template file not found"),
    ("voxform.yaml", 18, 5, "unknown key 'voise' (did you mean 'voice'?)"),
    ("voxform.yaml", 21, 11, "expected an object, got array"),
    ("voxform.yaml", 22, 9, "duplicate id 'a'"),
    ("voxform.yaml", 26, 12, "unknown voice 'narator' (did you mean 'narrator'?)"),
    ("voxform.yaml", 37, 11, "over the target's input limit of 2000"),
    ("voxform.yaml", 39, 13, "'../etc/passwd' escapes the project root"),
    ("voxform.yaml", 42, 12, "title is 129 bytes"),
]


def test_every_error_is_reported_at_its_position_in_one_run(project, voxform: Runner) -> None:
    root = project(BROKEN)
    result = voxform(root, "validate")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if ": error: " in line]
    for file, line, column, fragment in EXPECTED:
        prefix = f"{file}:{line}:{column}: error: "
        assert any(x.startswith(prefix) and fragment in x for x in lines), (prefix, fragment, lines)
    assert len(lines) == len(EXPECTED)


def test_json_format_lists_the_same_errors(project, voxform: Runner) -> None:
    root = project(BROKEN)
    result = voxform(root, "validate", "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    found = {(e["file"], e["line"], e["column"]) for e in document["errors"]}
    assert found == {(f, line, col) for f, line, col, _ in EXPECTED}
    assert {"file", "line", "column", "message", "rule"} <= set(document["errors"][0])


def test_valid_project_exits_zero(quickstart: Path, voxform: Runner) -> None:
    result = voxform(quickstart, "validate", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "format_version": 1,
        "valid": True,
        "errors": [],
        "warnings": [],
    }


def test_github_actions_gets_annotations(project, voxform: Runner, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    root = project(BROKEN)
    result = voxform(root, "validate")
    assert "::error file=voxform.yaml,line=18,col=5,title=voxform unknown-key::" in result.stdout


def test_credentials_in_a_manifest_are_rejected(project, voxform: Runner) -> None:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets:
                  oss: {provider: ice, bucket: my-audio, access_key_secret: abc}
                voices: {n: {voice: siqi}}
                items: [{id: a, text: Hi.}]
            """
        }
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert "voxform.yaml:3:42: error: credentials never belong in manifests" in result.stdout
    assert "abc" not in result.stdout


def test_symlink_escaping_the_root_is_an_error(project, voxform: Runner, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret words")
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out}}
                voices: {n: {voice: siqi}}
                items: [{id: a, source: texts/link.txt}]
            """
        }
    )
    (root / "texts").mkdir()
    (root / "texts/link.txt").symlink_to(outside)
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert (
        "voxform.yaml:4:25: error: source path 'texts/link.txt' escapes the project root"
        in result.stdout
    )


def test_includes_are_merged_and_checked(project, voxform: Runner) -> None:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out}}
                voices: {n: {voice: siqi}}
                items: [{id: a, text: Hi.}]
                include: [narrations/*.yaml]
            """,
            "narrations/more.yaml": """
                items:
                  - {id: b, text: Hello.}
                  - {id: a, text: Duplicate.}
                  - {id: c, text: Hi., tempo: 3}
            """,
        }
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert (
        "narrations/more.yaml:3:10: error: duplicate id 'a' (first defined at voxform.yaml:4)"
        in result.stdout
    )
    assert "narrations/more.yaml:4:24: error: unknown key 'tempo'" in result.stdout


def test_yaml_syntax_error_points_at_the_spot(project, voxform: Runner) -> None:
    root = project({"voxform.yaml": "version: 1\nitems: [\n"})
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert result.stdout.startswith("voxform.yaml:3:1: error: invalid YAML")


def test_missing_manifest_is_one_clear_error(tmp_path: Path, voxform: Runner) -> None:
    result = voxform(tmp_path, "validate")
    assert result.exit_code == 1
    assert "no voxform.yaml in" in result.output
    assert "Traceback" not in result.output


def test_a_target_prefix_that_climbs_out_is_refused(
    project: Callable[[dict[str, str]], Path], voxform: Runner
) -> None:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets:
                  oss: {provider: ice, bucket: my-audio, prefix: ../../../escape/}
                  fine: {provider: ice, bucket: my-audio, prefix: course/intro/}
                voices:
                  narrator: {voice: siqi}
                defaults: {voice: narrator, target: fine}
                items:
                  - id: a
                    text: Hello.
                """,
        }
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert len(lines) == 1
    assert lines[0].startswith("voxform.yaml:3:")
    assert "prefix '../../../escape/' is not a valid object key prefix" in lines[0]


def test_an_expanded_id_that_an_entry_has_too_is_reported_at_the_source(
    project, voxform: Runner
) -> None:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out}}
                voices: {n: {voice: siqi}}
                defaults: {voice: n, format: wav, target: local}
                items: [{id: book/a/p1, text: Hello there.}]
                sources: [{id: book, glob: "texts/*.md"}]
            """,
            "texts/a.md": "One.\n\nTwo.\n",
        }
    )
    result = voxform(root, "validate")
    assert result.exit_code == 1
    assert (
        "voxform.yaml:6:11: error: duplicate id 'book/a/p1' (also produced by the entry at "
        "voxform.yaml:5:9)"
    ) in result.output
    (root / "texts/a.md").rename(root / "texts/b.md")  # book/b/p1: no longer the same id
    assert voxform(root, "validate").exit_code == 0
