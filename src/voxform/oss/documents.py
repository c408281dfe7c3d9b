"""OSS's XML documents: the error, ListObjectsV2's page, DeleteMultipleObjects' request and
result, and CopyObject's result; read and written.

Answers come from the network, so they are read with expat directly and any document type
declaration is refused: no entity is ever declared, so none can expand (no billion laughs,
no external entities), whatever the expat version. Keys in a listing or a delete result are
URL-decoded when the document says `EncodingType` url (voxform always asks for it, because
XML 1.0 cannot carry every character a key may hold).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote
from xml.parsers import expat
from xml.sax.saxutils import escape

from voxform.errors import VoxformError
from voxform.frozen import maker

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element as Element_

MAX_DELETE_KEYS = 1000
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_ISO = "%Y-%m-%dT%H:%M:%S.000Z"


class XmlError(VoxformError):
    """A document that is not well-formed XML of the expected shape (or declares a DTD)."""


@dataclass
class Element:
    """One element: its tag, its text (joined), its child elements in order."""

    tag: str
    text: str = ""
    children: list[Element] = field(default_factory=list)

    def find(self, tag: str) -> Element | None:
        """The first child named `tag`."""
        return next((child for child in self.children if child.tag == tag), None)

    def text_of(self, tag: str, default: str = "") -> str:
        """The text of the first child named `tag`, or `default`."""
        child = self.find(tag)
        return default if child is None else child.text

    def all(self, tag: str) -> list[Element]:
        """Every child named `tag`."""
        return [child for child in self.children if child.tag == tag]


def parse(data: bytes) -> Element:
    """The root element of `data`; XmlError when it is not plain well-formed XML."""
    parser = expat.ParserCreate()
    stack: list[Element] = []
    roots: list[Element] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        element = Element(tag)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(tag: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    _run(parser, data, start, end, text)
    if len(roots) != 1:
        raise XmlError("the document has no root element")
    return roots[0]


def _run(
    parser: expat.XMLParserType,
    data: bytes,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    text: Callable[[str], None],
) -> None:
    """Feed `data` to `parser` with these handlers, refusing a document type (and with it
    every entity declaration); XmlError when it is not well-formed."""

    def refuse(*args: object) -> None:
        raise XmlError("the document declares a document type, which is refused")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise XmlError(f"not well-formed XML: {error}") from None


@dataclass(frozen=True)
class ObjectInfo:
    """What OSS says of one object. ETag is kept as OSS writes it (quoted, opaque); the CRC
    is None where OSS does not give it (a listing)."""

    key: str
    etag: str
    size: int
    crc64: int | None = None
    last_modified: datetime | None = None


_object_info = maker(ObjectInfo)  # every field in order, without __init__: 1,000 a page


@dataclass(frozen=True)
class ErrorDocument:
    """An OSS error answer's fields (empty when absent)."""

    code: str
    message: str
    request_id: str
    host_id: str = ""
    ec: str = ""


def parse_error(data: bytes) -> ErrorDocument | None:
    """The fields of `<Error>`, or None when the body is not one."""
    try:
        root = parse(data)
    except XmlError:
        return None
    if root.tag != "Error":
        return None
    fields = ("Code", "Message", "RequestId", "HostId", "EC")
    return ErrorDocument(*(root.text_of(name).strip() for name in fields))


def error_document(error: ErrorDocument) -> bytes:
    """`<Error>` as OSS writes it."""
    return _document(
        "Error",
        [
            ("Code", error.code),
            ("Message", error.message),
            ("RequestId", error.request_id),
            ("HostId", error.host_id),
            ("EC", error.ec),
        ],
    )


@dataclass(frozen=True)
class ListPage:
    """One ListObjectsV2 page: its objects and the token of the next page (None: last)."""

    objects: tuple[ObjectInfo, ...]
    next_token: str | None


def parse_list(data: bytes, *, times: bool = True) -> ListPage:
    """A ListBucketResult; keys and the token decoded when it says EncodingType url; each
    object's LastModified read unless `times` is False (then None: a survey needs none).

    Read by a parser of its own, not `parse`: a page holds 1,000 objects, and a plan after
    an apply of 100,000 items reads a hundred pages. Only the root's fields and those of
    each Contents are kept (the first of each name, as `Element.text_of` finds it)."""
    fields, entries = _list_fields_quickly(data) or _list_fields(data)
    decode = unquote if fields.get("EncodingType", "") == "url" else _same
    objects = []
    for entry in entries:
        size = entry.get("Size", "")
        if not size.isdigit():
            raise XmlError(f"an object's Size is {size!r}, not a number")
        objects.append(
            _object_info(
                decode(entry.get("Key", "")),
                entry.get("ETag", ""),
                int(size),
                None,
                parse_time(entry.get("LastModified", "")) if times else None,
            )
        )
    truncated = fields.get("IsTruncated", "").strip().lower() == "true"
    token = decode(fields.get("NextContinuationToken", "")) if truncated else ""
    if truncated and not token:
        raise XmlError("a truncated listing has no NextContinuationToken")
    return ListPage(tuple(objects), token or None)


def _list_fields_quickly(data: bytes) -> tuple[dict[str, str], list[dict[str, str]]] | None:
    """What `_list_fields` gives, read by ElementTree's parser (expat too, with no call
    into Python per element: a third of the time), or None: read it the careful way. Only
    for a plain document: nothing that starts with `<!` (a document type, a comment, a
    CDATA section), no namespace (this parser would name the elements by it) and no NUL
    (so no UTF-16 hiding any of them); whatever this parser refuses is left to
    `_list_fields`, which says why."""
    if b"<!" in data or b"\x00" in data or b"xmlns" in data:
        return None
    from xml.etree.ElementTree import ParseError, XMLParser

    parser = XMLParser()
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError:
        return None
    if root.tag != "ListBucketResult":
        return None  # the careful reading says what it is instead
    fields: dict[str, str] = {}
    entries: list[dict[str, str]] = []
    for child in root:
        tag = child.tag
        if tag not in fields:
            fields[tag] = _own_text(child)
        if tag == "Contents":
            entry: dict[str, str] = {}
            for part in child:  # the first of each name; a field has no child, as a rule
                if part.tag not in entry:
                    entry[part.tag] = (part.text or "") if not len(part) else _own_text(part)
            entries.append(entry)
    return fields, entries


def _own_text(element: Element_) -> str:
    """The text directly inside `element` (its children's own left out), as `end` joins it."""
    if not len(element):
        return element.text or ""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def _list_fields(data: bytes) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The texts of a ListBucketResult's children, and of each Contents' children, with
    what `parse` refuses refused the same way."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    tags: list[str] = []  # the open elements, the root first
    texts: list[list[str]] = []  # the text of each open element, in pieces
    fields: dict[str, str] = {}
    entries: list[dict[str, str]] = []
    roots: list[str] = []

    def start(tag: str, attributes: dict[str, str]) -> None:
        if not tags:
            roots.append(tag)
        elif len(tags) == 1 and tag == "Contents":
            entries.append({})
        tags.append(tag)
        texts.append([])

    def end(tag: str) -> None:
        tags.pop()
        text = "".join(texts.pop())
        depth = len(tags)
        if depth == 1:
            fields.setdefault(tag, text)
        elif depth == 2 and tags[1] == "Contents":
            entries[-1].setdefault(tag, text)

    def text(data: str) -> None:
        if texts:
            texts[-1].append(data)

    _run(parser, data, start, end, text)
    if len(roots) != 1:
        raise XmlError("the document has no root element")
    if roots[0] != "ListBucketResult":
        raise XmlError(f"expected <ListBucketResult>, found <{roots[0]}>")
    return fields, entries


def delete_request(keys: Sequence[str], *, quiet: bool = True) -> bytes:
    """The body of DeleteMultipleObjects (keys URL-encoded: send `encoding-type=url`)."""
    if not 0 < len(keys) <= MAX_DELETE_KEYS:
        raise ValueError(f"one call deletes 1 to {MAX_DELETE_KEYS} keys, not {len(keys)}")
    rows: list[tuple[str, str | list[tuple[str, str]]]] = [("Quiet", str(quiet).lower())]
    rows += [("Object", [("Key", _url(key))]) for key in keys]
    return _document("Delete", rows)


def parse_delete_request(data: bytes, *, url_encoded: bool) -> tuple[list[str], bool]:
    """(keys, quiet) of a DeleteMultipleObjects body."""
    root = _root(data, "Delete")
    decode = unquote if url_encoded else _same
    keys = [decode(entry.text_of("Key")) for entry in root.all("Object")]
    return keys, root.text_of("Quiet").strip().lower() == "true"


def delete_result(keys: Iterable[str], *, url_encoded: bool) -> bytes:
    """A DeleteResult naming the deleted keys (none in quiet mode)."""
    code = _url if url_encoded else _same
    rows: list[tuple[str, str | list[tuple[str, str]]]] = [
        ("Deleted", [("Key", code(key))]) for key in keys
    ]
    if url_encoded:
        rows.append(("EncodingType", "url"))
    return _document("DeleteResult", rows)


def parse_delete_result(data: bytes) -> list[str]:
    """The keys a DeleteResult names as deleted."""
    root = _root(data, "DeleteResult")
    decode = unquote if root.text_of("EncodingType") == "url" else _same
    return [decode(entry.text_of("Key")) for entry in root.all("Deleted")]


def copy_result(etag: str, modified: datetime) -> bytes:
    """A CopyObjectResult."""
    return _document(
        "CopyObjectResult", [("ETag", etag), ("LastModified", modified.strftime(_ISO))]
    )


def parse_copy_result(data: bytes) -> str:
    """The new object's ETag from a CopyObjectResult."""
    etag = _root(data, "CopyObjectResult").text_of("ETag")
    if not etag:
        raise XmlError("a CopyObjectResult has no ETag")
    return etag


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time as OSS writes it in XML, or None when it is not one."""
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _root(data: bytes, tag: str) -> Element:
    root = parse(data)
    if root.tag != tag:
        raise XmlError(f"expected <{tag}>, found <{root.tag}>")
    return root


def _same(text: str) -> str:
    return text


def _url(text: str) -> str:
    return quote(text, safe="/")


def _document(tag: str, rows: Sequence[tuple[str, str | list[tuple[str, str]]]]) -> bytes:
    parts = [_DECLARATION, f"<{tag}>"]
    for name, value in rows:
        if isinstance(value, str):
            parts.append(f"<{name}>{escape(value)}</{name}>")
        else:
            inner = "".join(f"<{n}>{escape(v)}</{n}>" for n, v in value)
            parts.append(f"<{name}>{inner}</{name}>")
    parts.append(f"</{tag}>")
    return "".join(parts).encode("utf-8")
