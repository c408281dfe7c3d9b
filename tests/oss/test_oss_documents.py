"""OSS's XML documents: written and read back, keys of any character, hostile XML refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.oss.documents import (
    ErrorDocument,
    ObjectInfo,
    XmlError,
    copy_result,
    delete_request,
    delete_result,
    error_document,
    list_document,
    parse,
    parse_copy_result,
    parse_delete_request,
    parse_delete_result,
    parse_error,
    parse_list,
)

KEYS = st.lists(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20),
    min_size=1,
    max_size=5,
)
WHEN = datetime(2024, 5, 17, 8, 30, 12, tzinfo=UTC)


def test_an_error_document_reads_back() -> None:
    error = ErrorDocument(
        "NoSuchKey", "The specified key <a&b> does not exist.", "5F3A", "h", "0026-1"
    )
    assert parse_error(error_document(error)) == error


def test_a_body_that_is_not_an_error_document_is_none() -> None:
    assert parse_error(b"<html>bad gateway</html>") is None
    assert parse_error(b"not xml") is None


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<Error><Code>&b;</Code></Error>",
        b'<!DOCTYPE Error [<!ENTITY x SYSTEM "file:///etc/passwd">]><Error><Code>&x;</Code></Error>',
        b"<Error><Code>&undefined;</Code></Error>",
    ],
)
def test_entities_and_document_types_are_refused(document: bytes) -> None:
    with pytest.raises(XmlError):
        parse(document)
    assert parse_error(document) is None


@given(KEYS, st.booleans())
def test_a_listing_page_reads_back_with_any_key(keys: list[str], truncated: bool) -> None:
    objects = [ObjectInfo(k, '"ABC"', i, None, WHEN) for i, k in enumerate(keys)]
    document = list_document(
        bucket="audio",
        prefix="",
        max_keys=1000,
        objects=objects,
        continuation_token="",
        next_token=keys[-1] if truncated else None,
        url_encoded=True,
    )
    page = parse_list(document)
    assert page.objects == tuple(objects)
    assert page.next_token == (keys[-1] if truncated else None)


@given(KEYS, st.booleans())
def test_a_delete_request_and_result_read_back(keys: list[str], quiet: bool) -> None:
    assert parse_delete_request(delete_request(keys, quiet=quiet), url_encoded=True) == (
        keys,
        quiet,
    )
    assert parse_delete_result(delete_result(keys, url_encoded=True)) == keys


def test_one_delete_call_takes_1_to_1000_keys() -> None:
    delete_request(["k"] * 1000)
    for count in (0, 1001):
        with pytest.raises(ValueError):
            delete_request(["k"] * count)


def test_a_copy_result_gives_the_new_etag() -> None:
    assert parse_copy_result(copy_result('"ABC"', WHEN)) == '"ABC"'
    with pytest.raises(XmlError):
        parse_copy_result(b"<Error/>")
