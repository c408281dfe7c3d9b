"""What CI shows is inert: a name from a manifest, a lockfile or a lease file can neither
become markup in the pull-request comment (links, images, mentions, HTML, math) nor a
workflow command in the log (`::add-mask::` at a line's start, `##[...]` anywhere), in any
command's output, `init` and `unlock` included."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from conftest import Runner, write_files
from voxform.plan.plan import Change, Plan
from voxform.report.markdown import cell, code, render_plan
from voxform.state.outputs import Kept

EVIL = "@octocat ![x](http://evil/t.png) [x](http://evil) <img src=x> www.evil.com #1 $x^2$"
HOSTILE = f"""
version: 1
targets: {{local: {{provider: local, path: out}}}}
voices:
  n: {{voice: siqi}}
defaults: {{voice: n}}
templates:
  "{EVIL}": "missing.j2"
items:
  - {{id: "{EVIL}", text: Hello}}
  - {{id: ok, text: Hi, template: "{EVIL}"}}
"""
# Tags our own documents use; anything else in the rendered HTML came from a string.
OUR_TAGS = {
    "h3", "p", "ul", "li", "code", "details", "summary", "table", "thead", "tbody", "tr",
    "th", "td",
}  # fmt: skip
# What GitHub links or notifies in rendered text, after Markdown.
LINKED = re.compile(r"@[A-Za-z0-9]|://|www\.|#\d", re.IGNORECASE)
CODE = re.compile(r"<code>.*?</code>", re.DOTALL)


def render(markdown: str, *, raw_html: bool = False) -> str:
    """HTML as GitHub's Markdown would make it: CommonMark and tables."""
    return MarkdownIt("commonmark", {"html": raw_html}).enable("table").render(markdown)


def assert_inert(markdown: str) -> None:
    """`markdown`, rendered as GitHub would (CommonMark and tables), makes only our tags,
    and its text outside code spans holds nothing GitHub would link, mention or typeset."""
    # GitHub typesets $...$ as math before Markdown proper: no dollar sign outside code.
    assert "$" not in re.sub(r"(`+).*?\1", "", markdown), markdown
    rendered = render(markdown, raw_html=True)
    tags = {m.lower() for m in re.findall(r"</?([A-Za-z][A-Za-z0-9]*)", rendered)}
    assert tags <= OUR_TAGS, (tags - OUR_TAGS, rendered)
    text = html.unescape(re.sub(r"<[^>]+>", " ", CODE.sub(" ", rendered)))
    assert not LINKED.search(text), (LINKED.search(text), text)
    for span in CODE.findall(rendered):  # code spans: shown as written
        assert "<" not in html.unescape(span)[len("<code>") : -len("</code>")]


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_hostile_names_reach_the_markdown_comment_as_text(
    tmp_path: Path, voxform: Runner, command: str
) -> None:
    root = write_files(tmp_path, {"voxform.yaml": HOSTILE})
    result = voxform(root, command, "--format", "markdown")
    assert result.exit_code == 1
    assert "octocat" in result.stdout and "evil" in result.stdout  # shown, escaped
    assert_inert(result.stdout)


def test_every_string_of_a_plan_row_is_inert_markdown() -> None:
    change = Change(
        "a/b",
        "update",
        (EVIL, "voice `changed` | ``x``", "**bold** _it_ ~~s~~ &amp; \\ <!-- c -->"),
        3,
        deletes=(f"build/{EVIL}.wav",),
        kept=(Kept(f"build/audio/{EVIL}.mp3", "changed since it was written: @admins", False),),
    )
    document = render_plan(Plan((change,)))
    assert_inert(document)
    row = document.splitlines()[-3]
    assert row.count(" | ") == 4, row  # five cells: no pipe of ours split one
    assert "deletes build/" in row and "keeps build/audio/" in row


@pytest.mark.parametrize(
    "text", ["plain", "`tick`", "a `` b ``` c", " spaced ", "a|b", "x\n::add-mask::y"]
)
def test_a_code_span_holds_its_text_whatever_it_is(text: str) -> None:
    for in_table in (False, True):
        span = code(text, in_table=in_table)
        rendered = render(f"| a |\n| --- |\n| {span} |\n" if in_table else span)
        inner = re.findall(r"<code>(.*?)</code>", rendered)
        assert len(inner) == 1, rendered
        assert html.unescape(inner[0]) == text.replace("\n", "\\n"), rendered


def test_inline_text_escapes_each_markup_character() -> None:
    for character in "\\`*_~[]|<>&$":
        rendered = render(cell(f"a{character}b{character}c"))
        assert html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip() == (
            f"a{character}b{character}c"
        ), (character, rendered)


# --- workflow commands in the log -----------------------------------------------------

OURS = ("::error file=", "::warning file=", "::notice title=voxform::", "::error title=voxform::")


def assert_no_forged_command(output: str) -> None:
    """Every line the runner would read as a command is one voxform wrote (in whose message
    `##[` is data: the runner reads a line as one command at most)."""
    for line in output.splitlines():
        if line.lstrip().startswith("::"):
            assert line.startswith(OURS), line
        else:
            assert "##[" not in line, line


def test_a_lease_holder_with_newlines_forges_nothing_in_unlock_or_apply(
    quickstart: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    (quickstart / ".voxform").mkdir()
    lease = {
        "id": "0123456789ab",
        "holder": "ci\n::add-mask::forged-holder",
        "host": "elsewhere\n  ::warning::forged-host ##[stop-commands]tok",
        "pid": 4242,
        "started": "2024-01-01T00:00:00Z\r::error::forged-start",
    }
    (quickstart / ".voxform" / "apply.lease").write_text(json.dumps(lease))
    held = voxform(quickstart, "apply", "--yes")
    assert held.exit_code == 1
    assert "forged-holder" in held.output
    assert_no_forged_command(held.output)
    released = voxform(quickstart, "unlock", "0123456789ab")
    assert released.exit_code == 0, released.output
    assert "forged-host" in released.output
    assert_no_forged_command(released.output)
    assert len(released.stdout.splitlines()) == 1, released.stdout


def test_an_init_directory_named_with_newlines_forges_nothing(
    tmp_path: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    name = "p\n::add-mask::forged-dir\n##[stop-commands]tok"
    result = voxform(tmp_path, "init", str(tmp_path / name), "--ci", "none")
    assert result.exit_code == 0, result.output
    assert "forged-dir" in result.output
    assert_no_forged_command(result.output)
    again = voxform(tmp_path, "init", str(tmp_path / name), "--ci", "none")  # refused
    assert again.exit_code == 1
    assert_no_forged_command(again.output)


def test_an_old_style_command_inside_a_line_is_spelt_out_in_json_too(
    tmp_path: Path, voxform: Runner
) -> None:
    forged = "##[add-mask]forged ##[stop-commands]tok"
    root = write_files(
        tmp_path,
        {"voxform.yaml": HOSTILE.replace(EVIL, forged)},
    )
    for fmt in ("text", "github", "markdown", "json"):
        result = voxform(root, "validate", "--format", fmt)
        assert result.exit_code == 1
        assert "forged" in result.output
        assert_no_forged_command(result.output)
    document = json.loads(voxform(root, "validate", "--json").stdout)
    assert any(forged in e["message"] for e in document["errors"])  # the same string


def test_clicks_own_errors_forge_nothing(tmp_path: Path) -> None:
    # click quotes what it was given with repr() (no newline gets through) but leaves `##[`.
    done = subprocess.run(
        [sys.executable, "-c", "from voxform.cli.main import main; main()", "##[add-mask]x"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "No such command" in done.stderr and "add-mask" in done.stderr
    assert_no_forged_command(done.stderr)
