"""Markdown sources cost memory linear in their size, with a small factor, or one error.

Each big case runs `voxform validate` in a child of a fresh Python, whose peak resident
memory (ru_maxrss of its children) is what the command itself took.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from voxform.render.chunking import paragraphs

MANIFEST = """\
version: 1
name: big
targets:
  local: {provider: local, path: build/audio}
voices:
  narrator: {voice: siqi}
defaults: {voice: narrator, format: mp3, sample_rate: 16000, target: local}
sources:
  - id: t
    glob: texts/*.md
    split: paragraph
"""

# The child's peak memory, in MB, and its answer; 5 GB of address space at most, so the
# old code fails the bound rather than the machine.
_MEASURE = textwrap.dedent(
    """
    import resource, subprocess, sys
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (5 << 30, 5 << 30))
    done = subprocess.run(
        [sys.executable, "-m", "voxform", "-C", sys.argv[1], "validate", "--json"],
        capture_output=True, text=True, preexec_fn=cap, timeout=300,
    )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(peak)
    print(done.returncode)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    """
)


def _validate(tmp_path: Path, markdown: str) -> tuple[int, int, dict[str, object]]:
    """Peak MB, exit code and JSON answer of `validate` on a project of one Markdown file."""
    (tmp_path / "texts").mkdir()
    (tmp_path / "voxform.yaml").write_text(MANIFEST, "utf-8")
    (tmp_path / "texts" / "t.md").write_text(markdown, "utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    peak, code, answer = done.stdout.split("\n", 2)
    return int(peak), int(code), json.loads(answer)


def _table(columns: int, rows: int, cell: str = "a") -> str:
    line = "|" + "|".join(cell for _ in range(columns)) + "|\n"
    return line + "|" + "|".join("-" for _ in range(columns)) + "|\n" + line * rows


def test_a_wide_table_of_a_megabyte_validates_in_bounded_memory(tmp_path: Path) -> None:
    # 5,000 columns x 100 rows: 1 MB that took 700 MB and 17 s in markdown-it's table rule.
    peak, _, answer = _validate(tmp_path, _table(5000, 100))
    assert peak < 250, f"validate of a 1 MB table peaked at {peak} MB"
    errors = answer["errors"]
    assert isinstance(errors, list)
    assert all("Markdown" not in e["message"] for e in errors), errors  # the table is read


def test_a_table_with_markup_in_every_cell_validates_in_bounded_memory(tmp_path: Path) -> None:
    peak, _, _ = _validate(tmp_path, _table(40, 3000, "**b** [l](http://x)"))
    assert peak < 250, f"validate of a 2.5 MB table of markup peaked at {peak} MB"


def test_a_file_of_too_many_blocks_is_one_error_at_its_line(tmp_path: Path) -> None:
    peak, code, answer = _validate(tmp_path, "# Title\n\nSome text.\n\n" + "- a\n" * 100_000)
    assert code == 1
    assert peak < 250, f"refusing 100,000 list entries peaked at {peak} MB"
    (error,) = answer["errors"]  # type: ignore[misc]
    assert error["file"] == "texts/t.md"
    assert 5 < error["line"] < 100_004
    assert "too many Markdown blocks" in error["message"]
    assert "split it" in error["message"]


def test_a_paragraph_of_too_much_markup_is_one_error_at_its_line(tmp_path: Path) -> None:
    text = "---\ntitle: x\n---\n# Title\n\nSome text.\n\n" + "*a* " * 100_000
    peak, code, answer = _validate(tmp_path, text)
    assert code == 1
    assert peak < 250, f"refusing a paragraph of 100,000 emphases peaked at {peak} MB"
    (error,) = answer["errors"]  # type: ignore[misc]
    assert (error["file"], error["line"]) == ("texts/t.md", 8)  # front matter lines count
    assert "pieces of Markdown" in error["message"]


def test_table_cells_resolve_references_defined_after_the_table() -> None:
    text = (
        "| name | link | code |\n|---|---|---|\n| *Ann* | [the site][r] |\n"
        "| a \\| b | `c|d` |\n\n[r]: http://example.com\n"
    )
    # As GFM: `\|` is a pipe in a cell, a pipe in backticks still ends one.
    assert paragraphs(text, markdown=True) == ["name, link, code. Ann, the site. a | b, `c, d`."]


def test_a_wide_table_is_spoken_as_every_row_in_order() -> None:
    columns = [f"c{i}" for i in range(3000)]
    table = "|" + "|".join(columns) + "|\n" + "|---" * 3000 + "|\n"
    table += "| x " * 3000 + "|\n"
    (spoken,) = paragraphs(table, markdown=True)
    assert spoken == ", ".join(columns) + ". " + ", ".join(["x"] * 3000) + "."


# -- the same words as markdown-it's own table rule -----------------------------------------

_GFM = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


def _words(tokens: list[Token]) -> str:
    parts = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.type == "image":
            parts.append(_words(token.children or []))
    return "".join(parts)


def _reference(text: str) -> list[str]:
    """What voxform spoke with markdown-it's table rule (a token per cell)."""
    blocks: list[str] = []
    rows: list[str] = []
    row: list[str] | None = None
    for token in _GFM.parse(text):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            cells = [c for cell in row if (c := re.sub(r"\s+", " ", cell).strip())]
            chinese = any(_CJK.search(c) for c in cells)
            said = ("，" if chinese else ", ").join(cells)
            if cells and not said.endswith(tuple(".!?…。！？")):
                said += "。" if chinese else "."
            rows.append(said)
            row = None
        elif token.type == "table_close":
            blocks.append("".join(r if r.endswith("。") else r + " " for r in rows))
            rows = []
        elif token.type == "inline":
            (row if row is not None else blocks).append(_words(token.children or []))
    return [b for block in blocks if (b := re.sub(r"\s+", " ", block).strip())]


_CELL = st.text(alphabet="ab 名|\\*_`~[]()!<>&;#x1.", max_size=12)


@given(
    header=st.lists(_CELL, min_size=1, max_size=4),
    body=st.lists(st.lists(_CELL, max_size=5), max_size=4),
    outer=st.booleans(),
    after=st.sampled_from(["", "\n[a]: http://x\n", "\nafter *it*\n", "\n> q\n"]),
)
def test_tables_are_spoken_as_markdown_its_table_rule_spoke_them(
    header: list[str], body: list[list[str]], outer: bool, after: str
) -> None:
    def line(cells: list[str]) -> str:
        inner = "|".join(cells)
        return f"|{inner}|" if outer else inner

    text = "\n".join([line(header), line(["---"] * len(header)), *map(line, body)]) + after
    assert paragraphs(text, markdown=True) == _reference(text)
