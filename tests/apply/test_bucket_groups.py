"""The objects a lockfile names, grouped for the bucket reads of a plan: by the target that
reaches their bucket and the longest of its prefixes they lie under."""

from __future__ import annotations

from pathlib import Path

from voxform.apply.buckets import named_objects, placed
from voxform.manifest.loader import load_manifests
from voxform.state.lockfile import LockEntry, LockState
from voxform.state.outputs import FileDigest, ObjectDigest

ICE = "provider: ice, region: cn-shanghai"
MANIFEST = f"""\
version: 1
name: groups
targets:
  wide: {{{ICE}, bucket: shared, prefix: a/}}
  deep: {{{ICE}, bucket: shared, prefix: a/b/}}
  also: {{{ICE}, bucket: shared, prefix: a/b/}}
  other: {{{ICE}, bucket: elsewhere, prefix: x/}}
  files: {{provider: local, path: build/audio}}
voices:
  narrator: {{voice: siqi}}
defaults: {{voice: narrator, target: wide}}
items:
  - {{id: one, text: Hello.}}
"""


def test_names_go_to_the_target_of_the_longest_prefix_they_lie_under(tmp_path: Path) -> None:
    (tmp_path / "voxform.yaml").write_text(MANIFEST)
    project, problems = load_manifests(tmp_path)
    assert not [p for p in problems if p.severity == "error"], problems
    names = [
        "oss://shared/a/b/c.mp3",  # under both prefixes: the longer, its first target
        "oss://shared/a/c.mp3",
        "oss://shared/z/y/d.mp3",  # under none: the first target by name, its folder
        "oss://elsewhere/x/e.mp3",
        "oss://unknown/a/f.mp3",  # no target reaches it: left out
        "oss://shared/a/b/g.mp3",
    ]
    assert placed(project, names) == {
        ("also", "oss://shared/a/b/"): ["oss://shared/a/b/c.mp3", "oss://shared/a/b/g.mp3"],
        ("wide", "oss://shared/a/"): ["oss://shared/a/c.mp3"],
        ("also", "oss://shared/z/y"): ["oss://shared/z/y/d.mp3"],
        ("other", "oss://elsewhere/x/"): ["oss://elsewhere/x/e.mp3"],
    }


def test_the_objects_named_are_listed_once_each_for_the_ids_selected() -> None:
    mp3 = ObjectDigest('"A"', 3)
    entry = LockEntry(
        "finished",
        "sha256:" + "a" * 64,
        3,
        outputs={"oss://b/k/1.mp3": mp3, "subtitles/1.vtt": FileDigest("b" * 64, 1)},
    )
    again = LockEntry("finished", "sha256:" + "a" * 64, 3, outputs={"oss://b/k/1.mp3": mp3})
    other = LockEntry("finished", "sha256:" + "a" * 64, 3, outputs={"oss://b/k/2.mp3": mp3})
    lock = LockState(
        {
            "ch/1": entry,
            "ch/2": again,
            "x/3": other,
            "x/4": LockEntry("pending", "sha256:" + "a" * 64, 0),
        }
    )
    assert named_objects(lock) == ["oss://b/k/1.mp3", "oss://b/k/2.mp3"]
    assert named_objects(lock, ["x/*"]) == ["oss://b/k/2.mp3"]
