"""The quickstart as a new user runs it: apply, then plan, then edits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import Runner
from e2e.audio import audio_files, mp3_duration, wav_stats


def apply(voxform: Runner, root: Path, *args: str) -> dict:
    result = voxform(root, "apply", "--yes", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def plan(voxform: Runner, root: Path) -> tuple[int, dict]:
    result = voxform(root, "plan", "--json", "--detailed-exitcode")
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def test_quickstart_produces_real_audio_and_a_complete_lockfile(
    quickstart: Path, voxform: Runner
) -> None:
    outcome = apply(voxform, quickstart)
    lock = json.loads((quickstart / "voxform.lock").read_text())
    assert set(lock["items"]) == set(outcome["finished"]) and not outcome["failed"]
    assert {"welcome", "lesson-01", "guest-tip", "chapters/01-basics/p1"} <= set(lock["items"])
    for item_id, entry in lock["items"].items():
        assert entry["state"] == "finished"
        path = quickstart / entry["url"]
        data = path.read_bytes()
        if path.suffix == ".wav":
            rate, seconds, rms = wav_stats(data)
            assert rate == 24000 and rms > 0.01
        else:
            rate, seconds = mp3_duration(data)
            assert rate == 16000
        # about as long as the text takes to say: 6 to 25 characters a second
        assert entry["characters"] / 25 < seconds < entry["characters"] / 6 + 1.5, (
            item_id,
            seconds,
        )
        assert abs(seconds - entry["duration"]) < 0.2

    code, document = plan(voxform, quickstart)
    assert code == 0 and document["changes"] == []


def test_edits_plan_exactly_what_changed(quickstart: Path, voxform: Runner) -> None:
    apply(voxform, quickstart)
    chapter = quickstart / "texts/chapters/01-basics.md"
    original = chapter.read_text()

    chapter.write_text(original.replace("names the table", "tells which table"))
    code, document = plan(voxform, quickstart)
    assert code == 2
    assert [(c["id"], c["action"], c["reasons"]) for c in document["changes"]] == [
        ("chapters/01-basics/p3", "update", ["text changed"])
    ]

    chapter.write_text(original.replace("\nThe FROM", "\nA new paragraph appears.\n\nThe FROM"))
    code, document = plan(voxform, quickstart)
    assert [(c["id"], c["action"]) for c in document["changes"]] == [
        ("chapters/01-basics/p2.1", "create")
    ]
    chapter.write_text(original)

    manifest = quickstart / "voxform.yaml"
    text = manifest.read_text()
    manifest.write_text(
        text.replace(
            "guest: {voice: xiaogang, speech_rate: 100", "guest: {voice: xiaogang, speech_rate: 200"
        )
    )
    code, document = plan(voxform, quickstart)
    assert [(c["id"], c["reasons"]) for c in document["changes"]] == [
        ("guest-tip", ["speech rate 100 -> 200"])
    ]

    manifest.write_text(text.replace("title: Lesson 1", "title: The very first lesson"))
    code, document = plan(voxform, quickstart)
    assert code == 0 and document["summary"]["characters"] == 0


def test_two_applies_give_identical_bytes(
    quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    other = tmp_path / "again"
    shutil.copytree(quickstart, other)
    apply(voxform, quickstart)
    apply(voxform, other)
    first, second = audio_files(quickstart / "build"), audio_files(other / "build")
    assert first and first == second
    assert (quickstart / "voxform.lock").read_bytes() == (other / "voxform.lock").read_bytes()


def test_deleted_output_is_planned_again(quickstart: Path, voxform: Runner) -> None:
    apply(voxform, quickstart)
    (quickstart / "build/audio/welcome.mp3").unlink()
    code, document = plan(voxform, quickstart)
    assert code == 2
    assert [(c["id"], c["reasons"]) for c in document["changes"]] == [
        ("welcome", ["output file missing: build/audio/welcome.mp3"])
    ]


def test_apply_without_a_terminal_needs_yes(quickstart: Path, voxform: Runner) -> None:
    result = voxform(quickstart, "apply")
    assert result.exit_code == 1
    assert "pass --yes" in result.output
    assert not (quickstart / "voxform.lock").exists()


def test_markup_characters_in_text_are_spoken(project, voxform: Runner) -> None:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out}}
                voices: {n: {voice: siqi}}
                defaults: {format: wav}
                items:
                  - id: tricky
                    text: "Fish & chips < 5 dollars > 2 dollars, \\"quoted\\" 'single' 🎉
                      <break time='9s'/> done."
                  - id: plain
                    text: "Fish and chips less than 5 dollars greater than 2 dollars,
                      quoted single done."
            """
        }
    )
    apply(voxform, root)
    _, tricky, rms = wav_stats((root / "out/tricky.wav").read_bytes())
    _, plain, _ = wav_stats((root / "out/plain.wav").read_bytes())
    assert rms > 0.01
    # the <break time='9s'/> in the text is read out as words, never obeyed as a 9 s pause
    assert plain * 0.6 < tricky < plain + 8
