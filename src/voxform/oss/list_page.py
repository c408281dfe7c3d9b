"""A ListObjectsV2 page as OSS writes it (the emulator's; the client reads it with
documents.parse_list), the same bytes as documents.py would write it, but each object's row
in one format: a bucket of 10,000 objects is listed ten pages at a time, and each page is
written in a few milliseconds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from voxform.oss.documents import _ISO, ObjectInfo, _document, _same, _url


def list_page(
    *,
    bucket: str,
    prefix: str,
    max_keys: int,
    objects: Sequence[ObjectInfo],
    continuation_token: str,
    next_token: str | None,
    url_encoded: bool,
) -> bytes:
    """A ListBucketResult page (keys URL-encoded when asked)."""
    code = _url if url_encoded else _same
    rows: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("Name", bucket),
        ("Prefix", code(prefix)),
        ("MaxKeys", str(max_keys)),
        ("KeyCount", str(len(objects))),
        ("IsTruncated", "true" if next_token else "false"),
    ]
    if continuation_token:
        rows.append(("ContinuationToken", code(continuation_token)))
    if next_token:
        rows.append(("NextContinuationToken", code(next_token)))
    if url_encoded:
        rows.append(("EncodingType", "url"))
    head = _document("ListBucketResult", rows).removesuffix(b"</ListBucketResult>")
    return head + _contents(objects, code).encode("utf-8") + b"</ListBucketResult>"


def _contents(objects: Sequence[ObjectInfo], code: Callable[[str], str]) -> str:
    """The Contents of a listing page, as `_document` writes them, one format a row (a
    page of 1,000 objects made in a few milliseconds): a time written once for the objects
    changed at that very moment (in one tick of the file system's clock), a text escaped
    only when it has a character to be."""
    times: dict[datetime, str] = {}
    now = None
    rows = []
    for info in objects:
        modified = info.last_modified
        if modified is None:
            modified = now = now or datetime.now(UTC)
        when = times.get(modified)
        if when is None:
            when = times[modified] = modified.strftime(_ISO)
        key, etag = code(info.key), info.etag
        rows.append(
            f"<Contents><Key>{_escaped(key)}</Key><LastModified>{when}</LastModified>"
            f"<ETag>{_escaped(etag)}</ETag><Type>Normal</Type><Size>{info.size}</Size>"
            "<StorageClass>Standard</StorageClass></Contents>"
        )
    return "".join(rows)


def _escaped(text: str) -> str:
    return escape(text) if "&" in text or "<" in text or ">" in text else text
