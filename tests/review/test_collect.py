"""Collecting a review of the quickstart: exactly the items a change touches, their text
before and after, and takes whose audio is what the review says it is."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import pytest

from e2e.audio import mp3_duration
from e2e.reviewing import CHANGED, applied_in_git, change, copy_of, git, tree_state
from voxform.project import load_project
from voxform.review.base import BaseError
from voxform.review.collect import Collected, Options, collect
from voxform.review.folder import PageFiles, page_folder
from voxform.review.model import Review, Take


class Told:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def review_of(
    root: Path, lockfile: Path | None = None, **options: object
) -> tuple[Collected, Path]:
    out, trusted = page_folder(root, root, None)
    collected = collect(
        load_project(root, lockfile),
        Options(**options, workers=2),  # type: ignore[arg-type]
        PageFiles(out, trusted),
        Told(),
    )
    return collected, out


def decoded_duration(path: Path) -> float:
    data = path.read_bytes()
    if path.suffix == ".wav":
        with wave.open(io.BytesIO(data)) as w:
            return w.getnframes() / w.getframerate()
    return mp3_duration(data)[1]


def check_take(out: Path, take: Take) -> None:
    """The take's file is beside the page and lasts what the take says (within 0.1 s)."""
    path = out / take.src
    assert path.is_file(), take.src
    assert abs(decoded_duration(path) - take.duration) < 0.1, (take.src, take.duration)
    assert len(take.peaks) == 64 and all(0 <= p <= 1 for p in take.peaks)
    assert max(take.peaks) > 0.1  # speech, not silence
    if take.subtitles is not None:
        assert (out / take.subtitles).read_text("utf-8").startswith("WEBVTT")


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart applied and committed once for the module (each test has a copy)."""
    return applied_in_git(tmp_path_factory.mktemp("applied"))


@pytest.fixture
def changed(applied: Path, tmp_path: Path) -> Path:
    root = copy_of(applied, tmp_path)
    change(root)
    return root


def test_the_review_holds_exactly_the_changed_items(changed: Path) -> None:
    collected, out = review_of(changed)
    review = collected.review
    assert {i.id: i.action for i in review.items} == CHANGED
    items = {i.id: i for i in review.items}

    welcome = items["welcome"]
    assert welcome.reasons == ("lexicon changed",)
    assert welcome.old_text is not None and welcome.old_text.endswith("data with sequel.")
    assert welcome.new_text is not None and welcome.new_text.endswith("data with S Q L.")
    assert welcome.new_ssml is not None and 'alias="S Q L"' in welcome.new_ssml
    assert welcome.source == "voxform.yaml" and not welcome.billed

    lesson = items["lesson-01"]
    assert lesson.reasons == ("text changed",) and lesson.source == "texts/lesson-01.md"
    assert lesson.old_text is not None and "rows and columns" in lesson.old_text
    assert lesson.new_text is not None and "rows, columns and names" in lesson.new_text

    gone = items["guest-tip"]
    assert gone.new_text is None and gone.after is None and gone.new_ssml is None
    assert (
        gone.old_text == "A tip from our guest: filters & joins are easier than they look <really>!"
    )

    for item in review.items:
        assert item.now is not None and item.now.kind == "recorded" and item.now.note is None
        check_take(out, item.now)
        if item.after is not None:
            assert item.after.kind == "preview" and item.after.mime == "audio/mpeg"
            check_take(out, item.after)
    assert gone.now is not None and gone.now.mime == "audio/wav"  # the file as recorded
    # the new text is longer: its preview is too
    assert lesson.after is not None and lesson.now is not None
    assert lesson.after.duration > lesson.now.duration
    assert review.summary()["items"] == 3 and review.audio_origins == ()


def test_a_base_ref_after_the_commit_gives_the_same_review_and_touches_nothing(
    changed: Path,
) -> None:
    before, _ = review_of(changed)
    git(changed, "add", "-A")
    git(changed, "commit", "-q", "-m", "the change")
    files = tree_state(changed)
    after, _ = review_of(changed, base="HEAD~1")
    assert after.review.items == before.review.items
    commit = git(changed, "rev-parse", "HEAD~1").strip()
    assert after.review.base == f"HEAD~1 ({commit[:7]})"
    assert git(changed, "status", "--porcelain") == ""
    assert tree_state(changed) == files
    assert after.synthesized == 0  # every preview was made by the first review
    with pytest.raises(BaseError, match="--base no-such-ref: no such commit"):
        review_of(changed, base="no-such-ref")


def test_a_lockfile_elsewhere_is_read_at_the_base_from_the_same_place(changed: Path) -> None:
    before, _ = review_of(changed)
    (changed / "locks").mkdir()
    git(changed, "mv", "voxform.lock", "locks/narration.lock")
    git(changed, "commit", "-q", "-m", "the lockfile moves")
    moved = changed / "locks/narration.lock"
    after, _ = review_of(changed, moved, base="HEAD")
    assert after.review.items == before.review.items
    git(changed, "rm", "-q", "--cached", "locks/narration.lock")  # kept, untracked
    git(changed, "commit", "-q", "-m", "no lockfile")
    fresh, _ = review_of(changed, moved, base="HEAD")  # none at HEAD: every item is new
    assert {i.action for i in fresh.review.items} == {"create"}


def test_previews_are_cached_by_audio_and_a_damaged_entry_is_made_again(changed: Path) -> None:
    first, _ = review_of(changed)
    assert (first.synthesized, first.cached) == (2, 0)
    second, _ = review_of(changed)
    assert (second.synthesized, second.cached) == (0, 2)
    assert second.review == first.review
    cached = sorted((changed / ".voxform/previews").glob("*.mp3"))
    assert len(cached) == 2
    cached[0].write_bytes(cached[0].read_bytes()[:100])  # a torn entry
    third, _ = review_of(changed)
    assert (third.synthesized, third.cached) == (1, 1)
    assert third.review == first.review


def test_the_pages_audio_is_linked_to_the_recorded_files_and_the_cached_previews(
    changed: Path,
) -> None:
    """No copy and no new file where the bytes already are: a cold review of thousands of
    items spent much of its time making files."""
    collected, out = review_of(changed)
    sources = {
        p.stat().st_ino: p
        for folder in ("build/audio", ".voxform/previews")
        for p in (changed / folder).rglob("*")
        if p.is_file()
    }
    takes = [t for i in collected.review.items for t in (i.now, i.after) if t is not None]
    assert len(takes) == 5
    for take in takes:
        page_file = out / take.src
        source = sources.get(page_file.stat().st_ino)
        assert source is not None, take.src
        assert source.read_bytes() == page_file.read_bytes()
        assert (source.parent.name == "previews") == (take.kind == "preview")
        if take.subtitles is not None and take.kind == "recorded":
            assert (out / take.subtitles).stat().st_ino in sources


def test_a_source_that_does_not_hold_the_bytes_is_not_linked(tmp_path: Path) -> None:
    other = tmp_path / "other.mp3"
    other.write_bytes(b"other bytes")
    (tmp_path / "link.mp3").symlink_to(tmp_path / "same.mp3")
    (tmp_path / "same.mp3").write_bytes(b"same bytes")
    with PageFiles(tmp_path / "page", tmp_path) as files:
        files.put(b"first", "mp3")  # the first write reaches the folder
        wrong = files.put(b"the bytes", "mp3", source=other)
        through = files.put(b"same bytes", "mp3", source=tmp_path / "link.mp3")
        right = files.put(b"other bytes", "mp3", source=other)
        assert files.linked == 1
    page = tmp_path / "page"
    assert (page / wrong).read_bytes() == b"the bytes"
    assert (page / through).read_bytes() == b"same bytes"
    assert not (page / through).is_symlink()
    assert (page / through).stat().st_ino != (tmp_path / "same.mp3").stat().st_ino
    assert (page / right).stat().st_ino == other.stat().st_ino
    assert sorted(p.name for p in (page / "audio").iterdir() if p.name.startswith(".")) == []


def test_a_recorded_file_changed_since_it_was_made_is_offered_as_a_preview(
    changed: Path,
) -> None:
    (changed / "build/audio/welcome.mp3").write_bytes(b"not the audio it was")
    collected, out = review_of(changed)
    now = {i.id: i.now for i in collected.review.items}["welcome"]
    assert now is not None and now.kind == "preview"
    assert now.note is not None and "has changed since it was made" in now.note
    check_take(out, now)


def test_without_git_the_previous_text_is_not_known(changed: Path, tmp_path: Path) -> None:
    root = changed
    (root / ".git").rename(tmp_path / "moved-git")
    collected, _ = review_of(root)
    items = {i.id: i for i in collected.review.items}
    assert set(items) == set(CHANGED)
    assert all(i.old_text is None and i.old_ssml is None for i in items.values())
    now = items["welcome"].now
    assert now is not None and now.kind == "recorded"  # the file is still the one recorded
    with pytest.raises(BaseError, match=r"--base HEAD: .* not in a git repository"):
        review_of(root, base="HEAD")


def test_a_change_reviewed_before_any_commit_has_no_previous_text(
    changed: Path, tmp_path: Path
) -> None:
    (changed / ".git").rename(tmp_path / "elsewhere")
    git(changed, "init", "-q", "-b", "main")  # a repository without a commit
    review: Review = review_of(changed)[0].review
    assert {i.id for i in review.items} == set(CHANGED)
    assert all(i.old_text is None for i in review.items)
    with pytest.raises(BaseError, match="--base HEAD: no such commit"):
        review_of(changed, base="HEAD")


def test_a_project_in_a_subfolder_of_its_repository_is_read_at_the_base_too(
    applied: Path, tmp_path: Path
) -> None:
    """Most repositories hold the project below their top (the quickstart is in
    examples/quickstart): HEAD and --base REF are read from that folder of the commit."""
    top = tmp_path / "repo"
    root = Path(shutil.copytree(applied, top / "narration" / "course", symlinks=True))
    shutil.rmtree(root / ".git")
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "narration")
    change(root)
    before, _ = review_of(root)
    texts = {item.id: item.old_text for item in before.review.items}
    assert set(texts) == CHANGED.keys()
    assert all(texts.values()), texts  # each text before the change, read from HEAD
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "the change")
    after, _ = review_of(root, base="HEAD~1")
    assert after.review.items == before.review.items
