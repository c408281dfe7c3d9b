"""`voxform review` of the quickstart, opened in headless Chromium: after one text, one lexicon
entry and one item changed, the page shows exactly those three changes and every player
plays what the page says it does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from e2e.reviewing import CHANGED, applied_in_git, change
from review.pages import CUES, LOAD_ALL
from voxform.cli.main import cli


def test_the_quickstart_s_review_plays_its_three_changes(visit: Any, tmp_path: Path) -> None:
    root = applied_in_git(tmp_path)
    change(root)
    result = CliRunner().invoke(cli, ["-C", str(root), "review"])
    assert result.exit_code == 0, result.output
    index = root / "build" / "review" / "index.html"
    seen = visit(index.as_uri())
    page = seen.page
    cards = page.evaluate(
        "() => Array.from(document.querySelectorAll('article.item'),"
        " (a) => [a.querySelector('h2').textContent, a.dataset.action])"
    )
    assert dict(cards) == CHANGED
    players = page.evaluate(LOAD_ALL)
    assert len(players) == 5  # now and after of the two updates, now of the deletion
    for player in players:
        assert player["found"] is not None, f"{player['src']} did not load"
        assert abs(player["found"] - player["stated"]) < 0.1, player
    page.wait_for_function(f"() => ({CUES})().length === 5 && ({CUES})().every((n) => n > 0)")
    folder = index.parent.as_uri() + "/"
    assert [url for url in seen.requests if not url.startswith(folder)] == []
    assert seen.errors() == []
