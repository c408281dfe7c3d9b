"""Chunk ids survive edits and insertions."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.paths import ID_MAX, ID_PATTERN, SLUG_MAX, id_problem, slug
from voxform.render.ids import align

KNOWN = {"s/f/p1": "a", "s/f/p2": "b", "s/f/p3": "c", "other/f/p9": "z"}


@pytest.mark.parametrize(
    ("digests", "keys"),
    [
        (["a", "b", "c"], ["p1", "p2", "p3"]),  # unchanged
        (["a", "B", "c"], ["p1", "p2", "p3"]),  # edited in place keeps its key
        (["a", "x", "b", "c"], ["p1", "p1.1", "p2", "p3"]),  # inserted between
        (["x", "a", "b", "c"], ["p0.1", "p1", "p2", "p3"]),  # inserted first
        (["a", "b", "c", "d"], ["p1", "p2", "p3", "p4"]),  # appended
        (["a", "c"], ["p1", "p3"]),  # removed
    ],
)
def test_keys_of_other_chunks_never_move(digests: list[str], keys: list[str]) -> None:
    assert align("s/f", digests, KNOWN) == keys


def test_first_expansion_numbers_from_one() -> None:
    assert align("s/f", ["a", "b"], {}) == ["p1", "p2"]


@given(st.lists(st.integers(0, 5), max_size=12), st.lists(st.integers(0, 5), max_size=12))
def test_keys_are_unique_and_sorted_in_document_order(old: list[int], new: list[int]) -> None:
    known = {
        f"s/f/{k}": str(d)
        for k, d in zip(align("s/f", [str(d) for d in old], {}), old, strict=True)
    }
    keys = align("s/f", [str(d) for d in new], known)
    assert len(keys) == len(set(keys)) == len(new)
    numbers = [float(k[1:]) for k in keys]
    assert numbers == sorted(numbers)


# -- path-safe ids and file-stem slugs ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "schema_file", ["schema/voxform.schema.json", "src/voxform/manifest/voxform.schema.json"]
)
def test_the_schema_states_the_id_rule_voxform_checks(schema_file: str) -> None:
    item_id = json.loads((ROOT / schema_file).read_text())["$defs"]["item_id"]
    assert item_id["pattern"] == ID_PATTERN.pattern
    assert item_id["maxLength"] == ID_MAX


@pytest.mark.parametrize(
    "value",
    [
        "x/../../../escape",
        "a/..",
        "a/./b",
        "a//b",
        "a/",
        "/a",
        ".a",
        "a/.hidden",
        "A",
        "a b",
        "é",
        "a" * (ID_MAX + 1),
        "welcome\n",
    ],
)
def test_ids_that_are_not_path_safe_are_refused(value: str) -> None:
    assert id_problem(value) is not None


@pytest.mark.parametrize(
    "value", ["welcome", "chapters/01-basics/p1.1", "a.b_c-d/e", "s/_draft/p1", "a" * ID_MAX]
)
def test_path_safe_ids_pass(value: str) -> None:
    assert id_problem(value) is None


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("01-basics", "01-basics"),  # ASCII stems keep the ids they always had
        ("Lesson One", "lesson-one"),
        ("part1/intro", "part1-intro"),
        ("_draft", "_draft"),
        ("Données", "donnees"),  # transliterated where Unicode decomposes to ASCII
        (".hidden", "hidden"),
        ("Smørrebrød-Straße", "smorrebrod-strasse"),  # and a few letters spelled by hand
        ("..", "5ec1f7e7"),  # nothing left: 8 hex digits of the name's SHA-256
        ("日本語", "77710aed"),  # no ASCII spelling: the digest, so names stay distinct
        ("lesson-日本", "lesson-bade02c3"),  # letters lost: the readable part and the digest
    ],
)
def test_file_stems_become_readable_stable_slugs(stem: str, expected: str) -> None:
    assert slug(stem) == expected


def test_non_ascii_stems_stay_distinct() -> None:
    assert len({slug("日本語"), slug("中文"), slug("русский"), slug("ελληνικά")}) == 4


def test_a_name_gives_one_slug_whatever_its_unicode_normalization() -> None:
    name = "Données ørsted"
    assert slug(unicodedata.normalize("NFC", name)) == slug(unicodedata.normalize("NFD", name))


def test_long_stems_are_capped_and_stay_distinct() -> None:
    first, second = slug("a" * 240 + "1"), slug("a" * 240 + "2")
    assert len(first) <= SLUG_MAX and len(second) <= SLUG_MAX and first != second


@given(st.text(max_size=300))
def test_every_slug_makes_a_valid_id(stem: str) -> None:
    assert id_problem(f"source/{slug(stem)}/p1") is None


def test_validate_refuses_an_id_with_a_final_newline_once(tmp_path: Path, voxform) -> None:
    """A schema `pattern` ends in `$`, which Python lets match before a final newline."""
    (tmp_path / "voxform.yaml").write_text(
        "version: 1\ntargets: {local: {provider: local, path: out}}\n"
        'voices: {n: {voice: siqi}}\nitems:\n  - {id: "welcome\\n", text: Hi}\n'
    )
    result = voxform(tmp_path, "validate")
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [
        "voxform.yaml:5:10: error: 'welcome\\n' is not a path-safe id: use lower-case letters, "
        "digits and . _ - in parts separated by '/', the first starting with a letter or digit "
        "and none empty or starting with '.' (so no '.' or '..' part)"
    ]


def test_many_chunks_inserted_between_two_get_short_keys_at_once() -> None:
    """260 paragraphs inserted after p1 hung: each key one digit longer than the last, until
    Decimal's 28 digits could no longer tell the next from the previous."""
    known = {"s/f/p1": "a", "s/f/p2": "b"}
    digests = ["a", *(f"new{n}" for n in range(2000)), "b"]
    keys = align("s/f", digests, known)
    assert keys[0] == "p1" and keys[-1] == "p2"
    assert keys[1:4] == ["p1.0001", "p1.0002", "p1.0003"] and keys[-2] == "p1.2"
    assert len(set(keys)) == len(keys)


def test_keys_inserted_again_and_again_at_one_place_stay_exact() -> None:
    known = {"s/f/p1": "a", "s/f/p2": "b"}
    for n in range(60):  # each edit inserts one paragraph right after p1
        digests = ["a", f"new{n}", *(known[k] for k in sorted(known, key=_order) if k != "s/f/p1")]
        keys = align("s/f", digests, known)
        assert len(set(keys)) == len(keys)
        known = {f"s/f/{k}": d for k, d in zip(keys, digests, strict=True)}
    longest = max(known, key=len)
    assert len(longest) > 60  # past Decimal's 28 digits, and still distinct and ordered


def _order(item_id: str) -> Decimal:
    return Decimal(item_id.rsplit("/p", 1)[1])
