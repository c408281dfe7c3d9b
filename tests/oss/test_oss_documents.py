"""OSS's XML documents: written and read back, keys of any character, hostile XML refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voxform.oss.documents import (
    ErrorDocument,
    ObjectInfo,
    XmlError,
    _list_fields,
    _list_fields_quickly,
    copy_result,
    delete_request,
    delete_result,
    error_document,
    parse,
    parse_copy_result,
    parse_delete_request,
    parse_delete_result,
    parse_error,
    parse_list,
)
from voxform.oss.list_page import list_page

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
    document = list_page(
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


@given(
    st.lists(st.text(st.sampled_from("ab/&<>\"' é"), min_size=1, max_size=12), max_size=8),
    st.lists(st.integers(0, 2_500_000), min_size=8, max_size=8),
)
def test_a_listing_page_with_keys_as_they_are_reads_back(
    keys: list[str], microseconds: list[int]
) -> None:
    """Keys not URL-encoded, escaped where they must be; objects changed in one second
    and in others each given its own second."""
    objects = [
        ObjectInfo(k, '"A&B"', i, None, WHEN + timedelta(microseconds=us))
        for i, (k, us) in enumerate(zip(keys, microseconds, strict=False))
    ]
    document = list_page(
        bucket="audio",
        prefix="a&",
        max_keys=1000,
        objects=objects,
        continuation_token="",
        next_token=None,
        url_encoded=False,
    )
    page = parse_list(document)
    assert [o.key for o in page.objects] == keys
    assert [o.last_modified for o in page.objects] == [
        o.last_modified.replace(microsecond=0) for o in objects if o.last_modified
    ]
    assert {o.etag for o in page.objects} <= {'"A&B"'}


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


PAGE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>audio</Name>'
    b"<IsTruncated>true</IsTruncated><NextContinuationToken>b%2Fc</NextContinuationToken>"
    b"<EncodingType>url</EncodingType>"
    b"<Contents><Key>a%20b</Key><ETag>&quot;AB&quot;</ETag><Size>7</Size></Contents>"
    b"<Contents><Key>c</Key><ETag>E</ETag><Size>8</Size><Key>second</Key></Contents>"
    b"</ListBucketResult>"
)


@pytest.mark.parametrize(
    "document",
    [
        PAGE,
        PAGE.replace(b"<Key>c</Key>", b"<Key>c<Inner>x</Inner>d</Key>"),  # text around one
        PAGE.replace(b"<Key>c</Key>", b"<Key>c<!-- note -->d</Key>"),
        PAGE.replace(b"<Key>c</Key>", b"<Key><![CDATA[c<d]]></Key>"),
        PAGE.replace(b"<Key>c</Key>", b"<Key>c<?pi x?>d</Key>"),
        PAGE.replace(b"<Key>c</Key>", b"<Key>&#99;&amp;&lt;</Key>"),
        PAGE.replace(b"<Key>c</Key>", b"<Key>\n  c  \n</Key>"),
        PAGE.replace(b"<Key>c</Key>", b"<p:Key>c</p:Key>"),
        PAGE.replace(b"<ListBucketResult>", b'<ListBucketResult xmlns="http://x/">'),
        PAGE.replace(b"<ListBucketResult>", b'<ListBucketResult a="1">'),
        PAGE.replace(b"<Contents>", b'<Contents xmlns="http://x/">'),
        PAGE.replace(b"ListBucketResult", b"p:ListBucketResult"),
        PAGE.replace(b"ListBucketResult", b"Other"),
        PAGE.replace(b"<Size>7</Size>", b"<Size>7</Size><Size>9</Size>"),
        PAGE.replace(b"<Size>7</Size>", b"<Size>seven</Size>"),
        PAGE.replace(b"<IsTruncated>true", b"<IsTruncated> TRUE "),
        PAGE.replace(b"</ListBucketResult>", b"</ListBucketResult><Again/>"),
        PAGE.replace(b"</ListBucketResult>", b""),
        PAGE.replace(b"<Key>c</Key>", b"<Key>&undefined;</Key>"),
        PAGE.replace(b"<Key>c</Key>", b"<Key>\xff</Key>"),
        PAGE.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"').replace(
            b"<Key>c", b"<Key>\xe9"
        ),
        PAGE.decode().encode("utf-16"),
        b"\xef\xbb\xbf" + PAGE,
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<ListBucketResult><Contents><Key>&b;</Key><Size>1</Size></Contents></ListBucketResult>",
        b"",
        b"<ListBucketResult/>",
    ],
)
def test_a_listing_page_reads_the_same_quickly_or_carefully(document: bytes) -> None:
    # The quick reading (ElementTree's parser) gives what the careful one gives, or leaves
    # the page to it; a page voxform's emulator writes is read quickly.
    try:
        careful: object = _list_fields(document)
    except XmlError:
        careful = XmlError
    quick = _list_fields_quickly(document)
    assert quick is None or quick == careful
    if document in (PAGE, PAGE.replace(b"<Key>c</Key>", b"<Key>&#99;&amp;&lt;</Key>")):
        assert quick is not None


@given(KEYS)
def test_a_page_as_the_emulator_writes_it_is_read_quickly(keys: list[str]) -> None:
    objects = [ObjectInfo(k, '"A&B"', i, None, WHEN) for i, k in enumerate(keys)]
    document = list_page(
        bucket="audio",
        prefix="<&>",
        max_keys=1000,
        objects=objects,
        continuation_token="t",
        next_token=keys[-1],
        url_encoded=True,  # as voxform asks for it: XML cannot carry every character
    )
    quick = _list_fields_quickly(document)
    assert quick is not None and quick == _list_fields(document)
