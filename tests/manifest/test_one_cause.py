"""Each cause reported once, at its place; unknown voices caught with a suggestion."""

from __future__ import annotations

from pathlib import Path

from conftest import Runner, write_files

MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices:
      narrator: {voice: %(voice)s, volume: %(volume)s}
    templates: {lesson: %(template)s}
    defaults: {voice: %(default)s, template: lesson}
    items:
      - {id: a, text: One.}
      - {id: b, text: Two.}
      - {id: c, text: Three.}
      - {id: d, text: Four.}
"""
GOOD = {"voice": "siqi", "volume": 50, "template": "lesson.j2", "default": "narrator"}


def validate(voxform: Runner, root: Path, **changes: object) -> list[str]:
    files = {"voxform.yaml": MANIFEST % {**GOOD, **changes}, "lesson.j2": "{{ text }}"}
    write_files(root, files)
    result = voxform(root, "validate")
    assert "Traceback" not in result.output
    return [line for line in result.stdout.splitlines() if ": error: " in line]


def test_the_example_project_is_valid(tmp_path: Path, voxform: Runner) -> None:
    assert validate(voxform, tmp_path) == []


def test_a_typo_in_defaults_is_reported_once(tmp_path: Path, voxform: Runner) -> None:
    assert validate(voxform, tmp_path, default="narator") == [
        "voxform.yaml:6:19: error: unknown voice 'narator' (did you mean 'narrator'?)"
    ]


def test_a_voice_out_of_range_is_not_also_unknown(tmp_path: Path, voxform: Runner) -> None:
    assert validate(voxform, tmp_path, volume=150) == [
        "voxform.yaml:4:35: error: 150 is greater than the maximum of 100"
    ]


def test_a_missing_template_file_is_not_also_an_unknown_template(
    tmp_path: Path, voxform: Runner
) -> None:
    assert validate(voxform, tmp_path, template="gone.j2") == [
        "voxform.yaml:5:21: error: template file not found: gone.j2"
    ]


def test_an_unknown_ice_voice_gets_a_suggestion_and_a_way_out(
    tmp_path: Path, voxform: Runner
) -> None:
    assert validate(voxform, tmp_path, voice="siqqi") == [
        "voxform.yaml:4:21: error: unknown ICE voice 'siqqi' (did you mean 'siqi'?); for a voice "
        "newer than voxform's table, set allow_unknown: true on this voice"
    ]
    assert validate(voxform, tmp_path, voice="siqqi, allow_unknown: true") == []
    assert validate(voxform, tmp_path, voice="Siqi") == []  # the API reference's spelling
    assert validate(voxform, tmp_path, voice="'espeak:en-us'") == []


def test_a_bad_tag_in_a_template_used_by_many_items_is_one_error(
    tmp_path: Path, voxform: Runner
) -> None:
    write_files(
        tmp_path, {"voxform.yaml": MANIFEST % GOOD, "lesson.j2": "<prosody>{{ text }}</prosody>"}
    )
    result = voxform(tmp_path, "validate")
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.output
    assert errors[0].startswith("lesson.j2:1:1: error: ICE does not support <prosody>")
    assert errors[0].endswith("(item 'a' and 3 more)")


def test_an_include_that_matches_nothing_is_a_warning(tmp_path: Path, voxform: Runner) -> None:
    manifest = MANIFEST % GOOD + "    include: [narrations/*.yaml]\n"
    files = {"voxform.yaml": manifest, "lesson.j2": "x"}
    write_files(tmp_path, files)
    result = voxform(tmp_path, "validate")
    assert result.exit_code == 0, result.output
    assert "warning: include 'narrations/*.yaml' matches no files" in result.stdout
