"""The bucket rule and the key limit, in one home that the manifest schema agrees with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import voxform
from voxform.oss.names import (
    BUCKET_PATTERN,
    MAX_KEY_BYTES,
    bucket_ok,
    bucket_problem,
    key_ok,
    key_problem,
)


def test_the_manifest_schema_has_the_same_bucket_rule() -> None:
    schema = Path(voxform.__file__).parent / "manifest" / "voxform.schema.json"
    bucket = json.loads(schema.read_text("utf-8"))["$defs"]["target"]["properties"]["bucket"]
    assert bucket["pattern"] == f"^{BUCKET_PATTERN}$"


@pytest.mark.parametrize("name", ["abc", "my-audio-2", "a" * 63, "0ab"])
def test_bucket_names_oss_takes(name: str) -> None:
    assert bucket_problem(name) is None


@pytest.mark.parametrize("name", ["ab", "a" * 64, "-abc", "abc-", "Abc", "a_b", "a.b", ""])
def test_bucket_names_oss_refuses(name: str) -> None:
    assert bucket_problem(name) is not None


def test_a_key_may_be_1023_bytes_of_utf8_and_not_one_more() -> None:
    assert MAX_KEY_BYTES == 1023
    assert key_problem("é" * 511 + "a") is None  # 1,023 bytes
    assert "1024 bytes" in (key_problem("é" * 512) or "")


@pytest.mark.parametrize("key", ["", "/a.mp3", "\\a.mp3", "\ud800"])
def test_keys_oss_refuses(key: str) -> None:
    assert key_problem(key) is not None


KEY_PARTS = st.sampled_from(["a", "/", "\\", "é", "\ud800", "a" * 511, "-"])


@given(st.lists(KEY_PARTS, max_size=6).map("".join))
def test_the_quick_key_check_answers_as_key_problem(key: str) -> None:
    assert key_ok(key) == (key_problem(key) is None)


@given(st.text(st.sampled_from("ab-0A_."), max_size=70))
def test_the_kept_bucket_check_answers_as_bucket_problem(name: str) -> None:
    assert bucket_ok(name) == (bucket_problem(name) is None)
    assert bucket_ok(name) == (bucket_problem(name) is None)  # as kept


@pytest.mark.parametrize(
    "key", ["a" * MAX_KEY_BYTES, "a" * (MAX_KEY_BYTES + 1), "é" * 511 + "a", "é" * 512, "", "/a"]
)
def test_the_quick_key_check_at_the_limits(key: str) -> None:
    assert key_ok(key) == (key_problem(key) is None)
