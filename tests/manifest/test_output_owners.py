"""One output, one owner: validate refuses two items, across targets, that would write the
same file (audio or subtitles) or the same OSS object, naming both and where each is."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Runner

Project = Callable[[dict[str, str]], Path]

HEAD = """\
version: 1
voices: {n: {voice: siqi}}
defaults: {voice: n}
targets:
"""


def manifest(targets: str, items: str, sources: str = "") -> str:
    text = HEAD + targets + "items:\n" + items
    return text + ("sources:\n" + sources if sources else "")


def owner_errors(voxform: Runner, root: Path) -> list[dict]:
    result = voxform(root, "validate", "--json")
    report = json.loads(result.stdout)
    errors = [e for e in report["errors"] if e["rule"] == "duplicate-output"]
    assert result.exit_code == (1 if report["errors"] else 0), result.output
    others = [e for e in report["errors"] if e["rule"] != "duplicate-output"]
    assert others == [], others
    return errors


def line_of(root: Path, needle: str) -> int:
    lines = (root / "voxform.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def test_nested_local_targets_writing_one_file_are_refused_naming_both(
    project: Project, voxform: Runner
) -> None:
    root = project(
        {
            "voxform.yaml": manifest(
                "  one: {provider: local, path: build/audio}\n"
                "  two: {provider: local, path: build/audio/x}\n",
                "  - {id: x/foo, target: one, text: Hello.}\n"
                "  - {id: foo, target: two, text: Hi.}\n",
            )
        }
    )

    errors = owner_errors(voxform, root)

    assert len(errors) == 1, errors
    error = errors[0]
    assert (error["file"], error["line"], error["column"]) == (
        "voxform.yaml",
        line_of(root, "id: foo,"),
        5,
    )
    message = error["message"]
    first = f"voxform.yaml:{line_of(root, 'x/foo')}:5"
    assert "item 'foo' (target 'two')" in message
    assert f"item 'x/foo' (target 'one', defined at {first})" in message
    assert "both write build/audio/x/foo.mp3" in message


def test_two_ice_targets_on_one_bucket_writing_one_object_are_refused(
    project: Project, voxform: Runner
) -> None:
    root = project(
        {
            "voxform.yaml": manifest(
                "  a: {provider: ice, bucket: my-audio, prefix: x/}\n"
                "  b: {provider: ice, bucket: my-audio}\n",
                "  - {id: y, target: a, text: Hello.}\n  - {id: x/y, target: b, text: Hi.}\n",
            )
        }
    )

    errors = owner_errors(voxform, root)

    assert [e["line"] for e in errors] == [line_of(root, "id: x/y")]
    assert "item 'x/y' (target 'b') and item 'y' (target 'a'" in errors[0]["message"]
    assert "both write oss://my-audio/x/y.mp3" in errors[0]["message"]


def test_two_formats_of_one_local_key_share_their_subtitles(
    project: Project, voxform: Runner
) -> None:
    root = project(
        {
            "voxform.yaml": manifest(
                "  a: {provider: local, path: build/audio}\n"
                "  b: {provider: local, path: ./build/audio/, prefix: x/}\n",
                "  - {id: x/p, target: a, format: wav, text: Hello.}\n"
                "  - {id: p, target: b, format: mp3, text: Hi.}\n",
            )
        }
    )

    errors = owner_errors(voxform, root)

    assert len(errors) == 1 and "both write build/audio/x/p.vtt" in errors[0]["message"]


def test_local_paths_that_differ_only_in_case_are_one_folder(
    project: Project, voxform: Runner
) -> None:
    """A checkout on macOS or Windows folds them into one."""
    root = project(
        {
            "voxform.yaml": manifest(
                "  a: {provider: local, path: build/Audio}\n"
                "  b: {provider: local, path: build/audio, prefix: q-}\n",
                "  - {id: q-a, target: a, text: Hello.}\n  - {id: a, target: b, text: Hi.}\n",
            )
        }
    )

    errors = owner_errors(voxform, root)

    assert len(errors) == 1 and "both write build/audio/q-a.mp3" in errors[0]["message"]


def test_a_local_target_writing_into_an_ice_targets_subtitles_is_refused(
    project: Project, voxform: Runner
) -> None:
    """An ICE target keeps its subtitles in the project, under subtitles/<target>/."""
    root = project(
        {
            "voxform.yaml": manifest(
                "  oss: {provider: ice, bucket: my-audio}\n"
                "  disk: {provider: local, path: subtitles/oss/x}\n",
                "  - {id: x/a, target: oss, text: Hello.}\n  - {id: a, target: disk, text: Hi.}\n",
            )
        }
    )

    errors = owner_errors(voxform, root)

    assert len(errors) == 1 and "both write subtitles/oss/x/a.vtt" in errors[0]["message"]


def test_items_of_two_sources_clashing_are_one_error_per_pair_of_entries(
    project: Project, voxform: Runner
) -> None:
    paragraphs = "First part.\n\nSecond part.\n\nThird part.\n"
    root = project(
        {
            "voxform.yaml": manifest(
                "  one: {provider: local, path: build/audio}\n"
                "  two: {provider: local, path: build/audio/x}\n",
                "  - {id: solo, target: one, text: Hello.}\n",
                "  - {id: x/notes, glob: texts/*.txt, target: one}\n"
                "  - {id: notes, glob: texts/*.txt, target: two}\n",
            ),
            "texts/intro.txt": paragraphs,
        }
    )

    errors = owner_errors(voxform, root)

    assert len(errors) == 1, errors
    assert errors[0]["line"] == line_of(root, "id: notes,")
    message = errors[0]["message"]
    assert "item 'notes/intro/" in message and "(target 'one', defined at voxform.yaml:" in message
    assert "(and 2 more items of these entries)" in message


def test_a_source_item_clashing_with_an_explicit_item_is_refused(
    project: Project, voxform: Runner
) -> None:
    root = project(
        {
            "voxform.yaml": manifest(
                "  one: {provider: local, path: build}\n"
                "  two: {provider: local, path: build/audio}\n",
                "  - {id: audio/notes/intro, target: one, text: Hello.}\n",
                "  - {id: notes, glob: texts/*.txt, split: none, target: two}\n",
            ),
            "texts/intro.txt": "All of it.\n",
        }
    )

    errors = owner_errors(voxform, root)

    assert len(errors) == 1
    message = errors[0]["message"]
    assert "item 'notes/intro' (target 'two') and item 'audio/notes/intro'" in message


@pytest.mark.parametrize(
    ("targets", "items"),
    [
        (  # one key, two formats, in OSS: two objects, subtitles in two folders
            "  a: {provider: ice, bucket: my-audio, prefix: x/}\n"
            "  b: {provider: ice, bucket: my-audio}\n",
            "  - {id: y, target: a, format: wav, text: Hello.}\n"
            "  - {id: x/y, target: b, text: Hi.}\n",
        ),
        (  # one key in two buckets
            "  a: {provider: ice, bucket: my-audio, prefix: x/}\n"
            "  b: {provider: ice, bucket: other-audio}\n",
            "  - {id: y, target: a, text: Hello.}\n  - {id: x/y, target: b, text: Hi.}\n",
        ),
        (  # nested folders, different files
            "  one: {provider: local, path: build/audio}\n"
            "  two: {provider: local, path: build/audio/x}\n",
            "  - {id: x/foo, target: one, text: Hello.}\n  - {id: bar, target: two, text: Hi.}\n",
        ),
        (  # the same object key on a local and an ICE target: a file and an object
            "  disk: {provider: local, path: build/audio}\n"
            "  oss: {provider: ice, bucket: my-audio, prefix: x/}\n",
            "  - {id: x/a, target: disk, text: Hello.}\n  - {id: a, target: oss, text: Hi.}\n",
        ),
    ],
    ids=["formats-in-oss", "two-buckets", "nested-folders", "file-and-object"],
)
def test_outputs_that_only_look_alike_are_valid(
    project: Project, voxform: Runner, targets: str, items: str
) -> None:
    root = project({"voxform.yaml": manifest(targets, items)})

    assert owner_errors(voxform, root) == []
