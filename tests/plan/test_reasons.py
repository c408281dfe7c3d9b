"""Plan reasons name what changed, with old -> new values where they are short; SSML that
speaks the same fingerprints the same."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import Runner, write_files


def applied(voxform: Runner, root: Path) -> None:
    result = voxform(root, "apply", "--yes")
    assert result.exit_code == 0, result.output


def reasons(voxform: Runner, root: Path) -> dict[str, list[str]]:
    result = voxform(root, "plan", "--json")
    assert result.exit_code == 0, result.output
    return {c["id"]: c["reasons"] for c in json.loads(result.stdout)["changes"]}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize(
    ("old", "new", "item", "expected"),
    [
        ("sample_rate: 24000", "sample_rate: 16000", "guest-tip", ["sample rate 24000 -> 16000"]),
        ("format: wav", "format: mp3", "guest-tip", ["format wav -> mp3"]),
        ("alias: sequel", "alias: seekwel", "welcome", ["lexicon changed"]),
        ("voice: xiaogang,", "voice: sicheng,", "guest-tip", ["voice xiaogang -> sicheng"]),
        ("speech_rate: 100", "speech_rate: 80", "guest-tip", ["speech rate 100 -> 80"]),
        ("template: lesson", "template: plain", "lesson-01", ["template lesson -> plain"]),
        ("few minutes", "few hours", "welcome", ["text changed"]),
        ("path: build/audio", "path: build/sound", "welcome", ["output location changed"]),
    ],
)
def test_each_setting_is_named_with_its_values(
    quickstart: Path, voxform: Runner, old: str, new: str, item: str, expected: list[str]
) -> None:
    applied(voxform, quickstart)
    edit(quickstart / "voxform.yaml", old, new)
    assert reasons(voxform, quickstart)[item] == expected


def test_a_volume_change_names_old_and_new(quickstart: Path, voxform: Runner) -> None:
    applied(voxform, quickstart)
    edit(quickstart / "voxform.yaml", "volume: 50", "volume: 60")
    found = reasons(voxform, quickstart)
    assert found["welcome"] == ["volume 50 -> 60"]
    assert "guest-tip" not in found  # another voice


def test_whitespace_in_a_template_changes_nothing(quickstart: Path, voxform: Runner) -> None:
    applied(voxform, quickstart)
    lesson = quickstart / "templates/lesson.ssml.j2"
    lesson.write_text("\n\n".join("   " + line for line in lesson.read_text().splitlines()))
    (quickstart / "templates/plain.ssml.j2").write_text("<speak>\n\t{{ text }}\n\n</speak>\n")
    result = voxform(quickstart, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    render = json.loads(voxform(quickstart, "render", "lesson-01", "--json").stdout)
    assert "\n" not in render["ssml"] and "  " not in render["ssml"]


def test_a_lockfile_from_before_canonical_ssml_plans_nothing(
    tmp_path: Path, voxform: Runner
) -> None:
    """An entry fingerprinted by voxform 0.1's recipe (SPEC section 5) over the SSML as the
    template spelt it, line breaks and all: upgrading must not pay for the audio again."""
    root = write_files(
        tmp_path,
        {
            "voxform.yaml": """
                version: 1
                targets: {oss: {provider: ice, region: cn-shanghai, bucket: my-bucket}}
                voices: {n: {voice: siqi}}
                templates: {t: t.j2}
                items: [{id: a, text: Hello there., template: t}]
            """,
            "t.j2": "<speak>\n  {{ text }}\n</speak>\n",
        },
    )
    spelt = '<speak sampleRate="16000">\n  Hello there.\n</speak>'
    editing = {"voice": "siqi", "format": "MP3", "volume": 50, "speech_rate": 0, "pitch_rate": 0}
    first = json.loads(voxform(root, "plan", "--json").stdout)
    assert first["changes"][0]["action"] == "create"
    from voxform.project import load_project

    output = load_project(root).rendered[0].digests["output"]
    old = {
        "editing": editing,
        "engine": None,
        "input": spelt,
        "output": output,
        "provider": "ice",
        "version": 1,
    }
    encoded = json.dumps(old, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    entry = {
        "characters": 12,
        "fingerprint": "sha256:" + hashlib.sha256(encoded.encode()).hexdigest(),
        "inputs": {"output": output},
        "job_id": "j1",
        "state": "finished",
    }
    lock = {"items": {"a": entry}, "lockfile_version": 1}
    (root / "voxform.lock").write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    result = voxform(root, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    (root / "t.j2").write_text("<speak>{{ text }} Bye.</speak>\n")  # a real change still shows
    assert voxform(root, "plan", "--detailed-exitcode").exit_code == 2
