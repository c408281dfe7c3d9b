"""Every command in every format: GitHub annotations, one JSON document (even when the
command fails before it has one), and text for people."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner, write_files
from voxform.apply.outcome import Outcome
from voxform.errors import Location, Problem
from voxform.plan.plan import Change
from voxform.project import load_project
from voxform.report.github import GithubReporter, escape_data
from voxform.report.text import TextReporter
from voxform.state.lease import lease
from voxform.state.lockfile import LockEntry, LockState, write_lockfile

MANIFEST = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    items:
      - {id: a, text: Hello there., title: Greeting}
      - {id: b, text: Good bye.}
"""

TWO_PROBLEMS = """
    version: 1
    targets: {local: {provider: local, path: out}}
    voices: {n: {voice: siqi}}
    items:
      - {id: a, text: Hello there., voice: "50%off"}
      - {id: b, text: Good bye., voise: n}
"""


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_files(tmp_path / "project", files)


def record_as_finished(root: Path, *ids: str, orphans: tuple[str, ...] = ()) -> None:
    """A lockfile in which `ids` (and `orphans`, ids no manifest names) are finished."""
    changes = {c.id: c for c in load_project(root).plan().changes}
    entries = {
        i: LockEntry(
            "finished",
            changes[i].fingerprint or "",
            changes[i].characters,
            dict(changes[i].inputs or {}),
        )
        for i in ids
    }
    for orphan in orphans:
        entries[orphan] = LockEntry("finished", "sha256:" + "0" * 64, 3)
    write_lockfile(root / "voxform.lock", LockState(entries))


def test_github_format_annotates_each_problem_at_its_position(
    tmp_path: Path, voxform: Runner
) -> None:
    root = make(tmp_path, {"voxform.yaml": TWO_PROBLEMS})

    result = voxform(root, "validate", "--format", "github")

    assert result.exit_code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=voxform.yaml,line=5,col=40,title=voxform schema::"
        "'50%25off' does not match '^[A-Za-z_][A-Za-z0-9_-]*$'",
        "::error file=voxform.yaml,line=6,col=30,title=voxform unknown-key::"
        "unknown key 'voise' (did you mean 'voice'?)",
    ]
    # the text lines stay for people reading the log
    assert "voxform.yaml:6:30: error: unknown key 'voise'" in result.stdout


def test_github_format_annotates_an_error_that_is_not_a_problem(
    tmp_path: Path, voxform: Runner
) -> None:
    root = make(tmp_path, {"voxform.yaml": MANIFEST})

    result = voxform(root, "render", "nope", "--format", "github")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["::error title=voxform::no item 'nope'"]


@pytest.mark.parametrize(
    ("message", "escaped"),
    [
        ("plain words, with: punctuation", "plain words, with: punctuation"),
        ("50% off", "50%25 off"),
        ("two\nlines", "two%0Alines"),
        ("windows\r\nline", "windows%0D%0Aline"),
        ("already %0A escaped", "already %250A escaped"),  # % first, or %0A would survive
    ],
)
def test_escape_data_escapes_what_github_reads_specially(message: str, escaped: str) -> None:
    assert escape_data(message) == escaped


def test_a_multi_line_problem_stays_one_annotation(capsys: pytest.CaptureFixture[str]) -> None:
    problem = Problem(
        Location("templates/t.ssml.j2", 3, 7), "unclosed <s>\r\nat 100%", "ssml-syntax"
    )

    GithubReporter().problems([problem])

    annotations = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error file=templates/t.ssml.j2,line=3,col=7,title=voxform ssml-syntax::"
        "unclosed <s>%0D%0Aat 100%25"
    ]


def test_a_file_name_with_a_comma_stays_one_annotation_property(
    tmp_path: Path, voxform: Runner
) -> None:
    root = make(
        tmp_path,
        {
            "voxform.yaml": """
                version: 1
                targets: {local: {provider: local, path: out}}
                voices: {n: {voice: siqi}}
                include: [more/*.yaml]
                items: [{id: a, text: Hello there.}]
            """,
            "more/part 1, take 2.yaml": """
                items:
                  - {id: b, text: Bye., voise: n}
            """,
        },
    )

    result = voxform(root, "validate", "--format", "github")

    assert result.exit_code == 1
    assert "::error file=more/part 1%2C take 2.yaml,line=2,col=25," in result.stdout


def test_plan_json_lists_changes_orphans_and_a_summary(tmp_path: Path, voxform: Runner) -> None:
    root = make(tmp_path, {"voxform.yaml": MANIFEST})
    record_as_finished(root, "a", orphans=("gone",))

    result = voxform(root, "plan", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "format_version": 1,
        "errors": [],
        "warnings": [],
        "changes": [
            {"id": "b", "action": "create", "reasons": ["new item"], "characters": 9},
            {
                "id": "gone",
                "action": "delete",
                "reasons": ["no longer in the manifests"],
                "characters": 0,
            },
        ],
        "orphans": ["gone"],
        "summary": {
            "create": 1,
            "update": 0,
            "copy": 0,
            "retry": 0,
            "resume": 0,
            "delete": 1,
            "unchanged": 1,
            "characters": 9,
            "billed_characters": 0,
            "free_characters": 9,
            "copied_characters": 0,
            "files_to_delete": 0,
            "files_to_prune": 0,
            "files_kept": 0,
        },
    }
    everything = json.loads(voxform(root, "plan", "--json", "--show-unchanged").stdout)
    assert [(c["id"], c["action"]) for c in everything["changes"]] == [
        ("a", "unchanged"),
        ("b", "create"),
        ("gone", "delete"),
    ]


def test_render_json_of_a_local_item_is_what_the_local_engine_gets(
    tmp_path: Path, voxform: Runner
) -> None:
    root = make(tmp_path, {"voxform.yaml": MANIFEST})

    result = voxform(root, "render", "a", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {
        "id", "engine", "ssml", "voice", "sample_rate", "output",
        "format_version", "errors", "warnings",
    }  # fmt: skip
    assert document["id"] == "a" and document["engine"] == "espeak-ng (local)"
    assert document["voice"]["voice"] == "siqi"
    assert document["output"].endswith("/a.mp3")
    assert "Hello there." in document["ssml"]
    assert "bucket" not in result.stdout and "OutputConfig" not in result.stdout


@pytest.mark.parametrize(
    ("item", "metadata"),
    [("a", {"Title": "Greeting"}), ("b", {})],
    ids=["title-set", "nothing-set"],
)
def test_render_text_of_an_ice_item_starts_with_the_action_and_leaves_out_unset_metadata(
    tmp_path: Path, voxform: Runner, item: str, metadata: dict[str, str]
) -> None:
    ice = MANIFEST.replace(
        "{local: {provider: local, path: out}}",
        "{oss: {provider: ice, region: cn-shanghai, bucket: my-bucket}}",
    )
    root = make(tmp_path, {"voxform.yaml": ice})

    result = voxform(root, "render", item)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('{\n  "Action": "SubmitAudioProduceJob",\n')
    document = json.loads(result.stdout)
    assert list(document)[:5] == [
        "Action",
        "EditingConfig",
        "InputConfig",
        "OutputConfig",
        "SampleRate",
    ]
    assert {k: v for k, v in document.items() if k in ("Title", "Description", "UserData")} == (
        metadata
    )


def test_apply_json_while_another_apply_holds_the_project_prints_an_errors_document(
    tmp_path: Path, voxform: Runner
) -> None:
    root = make(tmp_path, {"voxform.yaml": MANIFEST})

    with lease(root):
        result = voxform(root, "apply", "--json", "--yes")

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert sorted(document) == ["errors", "format_version", "warnings"]
    [error] = document["errors"]
    message = error["message"]
    assert message.startswith("another apply holds this project")
    assert f"host {socket.gethostname()}" in message and f"pid {os.getpid()}" in message
    assert not (root / "voxform.lock").exists()


def test_plan_json_without_a_manifest_is_an_invalid_document(
    tmp_path: Path, voxform: Runner
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    result = voxform(empty, "plan", "--json")

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    [error] = document["errors"]
    assert error["rule"] == "missing-manifest" and "no voxform.yaml" in error["message"]
    assert (error["file"], error["line"], error["column"]) == ("voxform.yaml", 1, 1)


@pytest.mark.parametrize(
    ("manifest", "args", "exit_code", "key"),
    [
        (MANIFEST, ("validate",), 0, "valid"),
        (TWO_PROBLEMS, ("validate",), 1, "valid"),
        (MANIFEST, ("plan", "--detailed-exitcode"), 0, "changes"),
        (TWO_PROBLEMS, ("plan",), 1, "valid"),
        (MANIFEST, ("render", "a"), 0, "ssml"),
        (MANIFEST, ("render", "nope"), 1, "errors"),
        (MANIFEST, ("apply", "--yes"), 0, "finished"),
    ],
    ids=[
        "validate",
        "validate-invalid",
        "plan",
        "plan-invalid",
        "render",
        "render-unknown",
        "apply-nothing-to-do",
    ],
)
def test_json_output_is_exactly_one_document(
    tmp_path: Path,
    voxform: Runner,
    manifest: str,
    args: tuple[str, ...],
    exit_code: int,
    key: str,
) -> None:
    root = make(tmp_path, {"voxform.yaml": manifest})
    if manifest == MANIFEST:
        record_as_finished(root, "a", "b")  # nothing to apply: no audio engine needed

    result = voxform(root, *args, "--json")

    assert result.exit_code == exit_code, result.output
    document = json.loads(result.stdout)  # "Extra data" if a second document followed
    assert isinstance(document, dict) and key in document
    assert result.stdout.count("\n}") == 1  # one top-level object, closed once


def test_text_outcome_says_nothing_when_nothing_was_applied(
    capsys: pytest.CaptureFixture[str],
) -> None:
    TextReporter().outcome(Outcome())

    assert capsys.readouterr() == ("", "")


def test_text_outcome_of_an_interrupted_apply_says_state_was_saved(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcome = Outcome(
        finished=["a"],
        failed=[("b", "Throttling", "gave up")],
        characters=12,
        audio_seconds=90.0,
        interrupted=True,
        seconds=3.0,
    )

    TextReporter().outcome(outcome)

    assert capsys.readouterr().out == (
        "Interrupted: state saved. Apply failed: 1 done, 1 failed, 12 characters, "
        "1.5 minutes of audio, 3.0 s elapsed.\n"
    )


def test_text_outcome_of_a_finished_apply_has_no_interrupted_prefix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    TextReporter().outcome(Outcome(finished=["a"], characters=12, audio_seconds=30.0))

    assert capsys.readouterr().out.startswith("Apply complete: 1 done, 0 failed, 12 characters")


def test_a_large_apply_off_a_terminal_prints_progress_lines_not_one_per_item(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxform.report import progress

    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    reporter = TextReporter(live=False)
    reporter.total = 500
    outcome = Outcome(finished=["a", "b"], characters=30)
    reporter.running(7, outcome)
    reporter.item_done(Change("c", "create", ("new item",), 5), LockEntry("finished", "0" * 64, 5))
    out = capsys.readouterr().out
    assert out.startswith("progress: 2/500 done (0 failed), 7 in flight, 30 characters")
    assert "c: finished" not in out


def test_github_annotations_stop_at_ten_with_a_notice_for_the_rest(
    project: Callable[[dict[str, str]], Path], voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = "\n".join(f"  - {{id: item-{n}, text: Hi., voice: nobody{n}}}" for n in range(25))
    root = project(
        {
            "voxform.yaml": "version: 1\ntargets:\n  local: {provider: local, path: out}\n"
            "voices:\n  narrator: {voice: siqi}\nitems:\n" + items + "\n"
        }
    )
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = voxform(root, "validate")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    annotations = [line for line in lines if line.startswith("::error ")]
    assert len(annotations) == 10
    assert all(line.startswith("::error file=voxform.yaml,line=") for line in annotations)
    assert sum(": error: " in line for line in lines) == 25  # every problem stays in the log
    (notice,) = [line for line in lines if line.startswith("::notice")]
    assert "25 errors found; 15 more" in notice
