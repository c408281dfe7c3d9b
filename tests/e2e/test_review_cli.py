"""`voxform review` as a user runs it: the page of a change, the same page for `--base
HEAD~1` after the commit (the work tree untouched), clear errors, and an ICE project's
recorded audio by presigned URLs that the emulator serves and refuses once tampered or
expired."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Runner, one_error
from e2e.conftest import Emulator
from e2e.reviewing import applied_in_git, change, copy_of, git, tree_state

SUMMARY = re.compile(r"^(\d+) changed item\(s\).*previews: (\d+) synthesized, (\d+) from cache")


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return applied_in_git(tmp_path_factory.mktemp("applied"))


@pytest.fixture
def changed(applied: Path, tmp_path: Path) -> Path:
    root = copy_of(applied, tmp_path)
    change(root)
    return root


def reviewed(voxform: Runner, root: Path, *args: str) -> tuple[Path, tuple[int, int, int]]:
    """Run `voxform review`; the page it names and (items, synthesized, cached)."""
    result = voxform(root, "review", *args)
    assert result.exit_code == 0, result.output
    first, second = result.stdout.strip().splitlines()
    page = Path(first.removeprefix("Review written to "))
    assert page.is_file(), first
    counts = SUMMARY.match(second)
    assert counts is not None, second
    return page, (int(counts[1]), int(counts[2]), int(counts[3]))


def test_the_page_of_a_change_is_the_page_of_its_commit_against_the_one_before(
    changed: Path, voxform: Runner, tmp_path: Path
) -> None:
    page, counts = reviewed(voxform, changed)
    assert page == changed / "build/review/index.html"
    assert counts == (3, 2, 0)
    ids = set(re.findall(r"class=\"id\"><code>([^<]+)</code>", page.read_text("utf-8")))
    assert ids == {"welcome", "lesson-01", "guest-tip"}

    git(changed, "add", "-A")
    git(changed, "commit", "-q", "-m", "the change")
    files = tree_state(changed)
    out = tmp_path / "elsewhere"
    again, counts = reviewed(voxform, changed, "--base", "HEAD~1", "--out", str(out))
    assert again == out / "index.html" and counts == (3, 0, 2)  # nothing synthesized again
    assert git(changed, "status", "--porcelain") == ""
    assert tree_state(changed) == files
    # The same page, but for what it says it compares with.
    commit = git(changed, "rev-parse", "--short=7", "HEAD~1").strip()
    assert again.read_bytes().replace(f"HEAD~1 ({commit})".encode(), b"voxform.lock") == (
        page.read_bytes()
    )
    assert sorted(p.name for p in (out / "audio").iterdir()) == sorted(
        p.name for p in (changed / "build/review/audio").iterdir()
    )


def test_a_review_refuses_what_it_cannot_read_or_write(
    changed: Path, voxform: Runner, tmp_path: Path
) -> None:
    one_error(voxform(changed, "review", "--base", "no-such"), "--base no-such", "no such commit")
    one_error(voxform(changed, "review", "--out", ".voxform/page"), ".voxform/")
    outside = tmp_path / "outside"
    outside.mkdir()
    (changed / "build/review").symlink_to(outside, target_is_directory=True)
    one_error(voxform(changed, "review"), "build/review", "symlink")
    assert list(outside.iterdir()) == []
    (changed / ".git").rename(tmp_path / "moved")
    one_error(voxform(changed, "review", "--base", "HEAD"), "--base HEAD", "not in a git")


@pytest.fixture
def ice(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    url, storage = emulator("--synthesis", "silence", "--latency", "0")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", url)
    assert voxform(ice_project, "apply", "--yes").exit_code == 0
    manifest = ice_project / "voxform.yaml"
    text = manifest.read_text("utf-8")
    manifest.write_text(text.replace("stored in OSS.", "kept in OSS."), "utf-8")
    return ice_project, storage


def presigned(page: Path) -> list[str]:
    return [
        html.unescape(u) for u in re.findall(r'src="(http://127\.0\.0\.1:[^"]+)"', page.read_text())
    ]


def test_ice_recorded_audio_plays_by_a_presigned_url_the_emulator_checks(
    ice: tuple[Path, Path], voxform: Runner, emulator: Emulator
) -> None:
    root, storage = ice
    page, counts = reviewed(voxform, root, "--expires", "60")
    assert counts == (1, 1, 0)
    (link,) = presigned(page)
    assert "testsecret" not in page.read_text("utf-8")
    answer = httpx.get(link, timeout=10)
    assert answer.status_code == 200
    assert answer.content == (storage / "my-audio/course/intro/welcome.mp3").read_bytes()
    signature = re.search(r"x-oss-signature=([0-9a-f]+)", link)
    assert signature is not None
    tampered = link.replace(signature[1], signature[1][::-1])
    assert httpx.get(tampered, timeout=10).status_code == 403
    later, _ = emulator("--storage", str(storage), "--clock-offset", "120")
    moved = link.replace(urlsplit(link).netloc, urlsplit(later).netloc)
    assert httpx.get(moved, timeout=10).status_code == 403
    # The object's levels were read once: a second review reads no object.
    result = voxform(root, "review")
    assert result.exit_code == 0 and "recorded object" not in result.stdout


def test_without_credentials_the_recorded_take_is_a_labelled_preview(
    ice: tuple[Path, Path], voxform: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, _ = ice
    manifest = root / "voxform.yaml"
    edited = manifest.read_text("utf-8")
    manifest.write_text(edited.replace("kept in OSS.", "stored in OSS."), "utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "applied")  # before the edit
    manifest.write_text(edited, "utf-8")
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "nobody"))
    page, counts = reviewed(voxform, root)
    assert counts[0] == 1
    assert presigned(page) == []
    text = page.read_text("utf-8")
    assert "cannot be reached" in text and "preview of the recorded text" in text
