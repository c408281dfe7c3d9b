"""The records of the render cache (state/render_cache.py): an item's result as numbers
and strings in a cache file (state/cachefile.py), and back.

Nearly every result is plain: one request for the item itself, no warning, no problem. Of
it only what its render made is kept (the request's input, the characters it speaks, five
digests, the input as spelt before canonical SSML, as a worker sends it: render/assemble.py)
and the rest is put together again from the item and its settings by the functions the
render uses, so both are the same values. Any other result is kept whole. A plain result
read back is a CachedRendered: its request and digests are put together only when first
read (a plan of 100,000 unchanged items reads neither), from the record's string, which
stays in the file read.

    plain:   PLAIN, the five digests' hex and the input (one string), characters, legacy,
             the provider and engine its fingerprints are for (or -1), then (unless -1)
             the fingerprint's and the audio digest's 64 bytes as 8 numbers
    general: GENERAL, the number of requests, then each request's fields and its warnings,
             then the problems
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import astuple, replace

from voxform.errors import Location, Problem
from voxform.frozen import maker
from voxform.ice.wire import FORMATS, AudioRequest, EditingConfig
from voxform.manifest.model import Project
from voxform.render.model import Item, Prints, RenderedItem
from voxform.render.results import ItemResult
from voxform.state.cached_rendered import (
    CORE,
    DIGESTS,
    HEX,
    PREFIX,
    cached,
    revive,
)
from voxform.state.cachefile import CacheReader, CacheTable

PLAIN, GENERAL = 0, 1
_PREFIXED = len(PREFIX)
_PRINT_INTS = 8  # a fingerprint's and an audio digest's 32 bytes each, as int64
_DIGEST = _PREFIXED + HEX  # a digest's length
_NONE = ("",) * len(CORE)  # a digest missing: never a plain record's
_PREFIXES = (PREFIX,) * len(CORE)


# What a plain record is made of (encode): the five digests, the input, the characters
# spoken, the input as spelt before canonical SSML, the fingerprints (the values themselves,
# not copies: taken out of a result, they cost a tuple).
Plain = tuple[str, str, str, str, str, str, int, "str | None", "Prints | None"]


def encode(table: CacheTable, item: Item, result: ItemResult, plain: Plain | None = None) -> None:
    """The record of `item`'s `result`, after the table's `record(key)`; `plain`: what
    `plain_record` gave for them, taken out before (None: taken out here)."""
    if plain is None:
        plain = plain_record(item, result)
    if plain is None:
        _encode_general(table, item, result)
        return
    source, text, ssml, output, location, final, characters, legacy, prints = plain
    table.number(PLAIN)
    kept = source[_PREFIXED:] + text[_PREFIXED:] + ssml[_PREFIXED:]
    table.text(kept + output[_PREFIXED:] + location[_PREFIXED:] + final, unique=True)
    table.number(characters)
    table.text(legacy)
    raw = None if prints is None else print_bytes(prints)
    if raw is not None and prints is not None:
        table.text(engine_spelt(prints[0], prints[1]))
        table.ints.frombytes(raw)  # 64 bytes, not 142 characters of hex
    else:
        table.text(None)


def plain_record(item: Item, result: ItemResult) -> Plain | None:
    """What the plain record of `item`'s `result` is made of; None when it is not plain."""
    if result.problems or len(result.rendered) != 1:
        return None
    rendered = result.rendered[0]
    # one statement per digest and C-level checks: 100,000 records a command
    source, text, ssml, output, location = map(rendered.digests.get, CORE, _NONE)
    if not (
        not rendered.warnings
        and (rendered.item is item or rendered.item == item)
        and len(source) == len(text) == len(ssml) == len(output) == len(location) == _DIGEST
        and all(map(str.startswith, (source, text, ssml, output, location), _PREFIXES))
    ):
        return None
    return (
        *(source, text, ssml, output, location, rendered.request.input),
        *(rendered.characters, rendered.legacy_input, rendered.prints),
    )


def engine_spelt(kind: str, engine: str | None) -> str:
    """The provider kind and engine version a record's fingerprints are for, as one string."""
    return f"{kind}\0{'-' if engine is None else '+' + engine}"


def engine_parts(spelt: str | None) -> tuple[str, str | None]:
    """The provider kind and engine version `engine_spelt` spelt (None: "" and None)."""
    kind, _, version = (spelt or "").partition("\0")
    return kind, None if version == "-" else version[1:]


def print_bytes(prints: Prints) -> bytes | None:
    """The fingerprint's and the audio digest's 64 bytes, when `prints` can be kept: its
    digests are `sha256:` and 64 lowercase hex digits, its kind and engine hold no NUL."""
    return prints_bytes((prints,))


def prints_bytes(many: Iterable[Prints]) -> bytes | None:
    """`print_bytes` of each of `many`, joined, read from hex in one piece; None unless
    every one of them can be kept."""
    spelt: list[str] = []
    for kind, engine, fingerprint, audio in many:
        if not (
            len(fingerprint) == len(audio) == _DIGEST
            and fingerprint.startswith(PREFIX)
            and audio.startswith(PREFIX)
            and "\0" not in kind
            and (engine is None or "\0" not in engine)
        ):
            return None
        spelt += (fingerprint[_PREFIXED:], audio[_PREFIXED:])
    joined = "".join(spelt)
    try:
        raw = bytes.fromhex(joined)
    except ValueError:
        return None
    return raw if raw.hex() == joined else None  # lowercase hex digits only, no spaces


def copy_plain(table: CacheTable, reader: CacheReader, at: int) -> bool:
    """Write the plain record at `at` of `reader` into `table` as it is (after the table's
    `record(key)`), and say so; False, writing nothing, for a record of another form. The
    caller decoded it before: it is a record."""
    ints = reader.ints
    if ints[at] != PLAIN:
        return False
    table.number(PLAIN)
    table.text(reader.text(ints[at + 1]), unique=True)
    table.number(ints[at + 2])
    table.text(reader.text(ints[at + 3]))
    engine = ints[at + 4]
    table.text(reader.text(engine))
    if engine >= 0:
        table.ints.extend(ints[at + 5 : at + 5 + _PRINT_INTS])
    return True


def plain_string(reader: CacheReader, at: int) -> int | None:
    """The index of the string of the plain record at `at` (its digests and input); None
    when it is not a plain record."""
    ints = reader.ints
    try:
        if ints[at] != PLAIN or reader.size(ints[at + 1]) < DIGESTS or ints[at + 2] < 0:
            return None
    except IndexError:
        return None
    return ints[at + 1]


def decode(
    project: Project, reader: CacheReader, at: int, item: Item, engine: str | None = None
) -> ItemResult:
    """The result the record at `at` keeps for `item`, with the fingerprints it keeps when
    they are for `engine` (as `engine_spelt` spells it); IndexError, ValueError, TypeError
    or KeyError when it is not a record."""
    if reader.ints[at] == GENERAL:
        return _decode_general(reader, at, item)
    found = decode_plains(project, reader, [at], [item], engine)[0]
    if found is None:
        raise ValueError("not a plain record")
    return found


def decode_plains(
    project: Project,
    reader: CacheReader,
    starts: list[int],
    items: list[Item],
    engine: str | None,
) -> list[ItemResult | None]:
    """The plain result the record at each of `starts` keeps for the item beside it, in
    one loop (a second plan reads 100,000 of them); None for a record that is not plain,
    or not a record."""
    ints, text, size = reader.ints, reader.text, reader.size
    kind, made_for = engine_parts(engine)
    spelt = -2  # the index of `engine`'s string in this reader, once seen (strings are kept once)
    found: list[ItemResult | None] = []
    for at, item in zip(starts, items, strict=True):
        try:
            if ints[at] != PLAIN:
                found.append(None)
                continue
            kept, characters, legacy = ints[at + 1], ints[at + 2], ints[at + 3]
            if size(kept) < DIGESTS or characters < 0:
                found.append(None)
                continue
            prints: Prints | None = None
            index = ints[at + 4]
            if engine is not None and index >= 0 and (index == spelt or text(index) == engine):
                spelt = index
                raw = ints[at + 5 : at + 5 + _PRINT_INTS]
                if len(raw) != _PRINT_INTS:
                    found.append(None)
                    continue
                both = raw.tobytes().hex()
                prints = (kind, made_for, PREFIX + both[:HEX], PREFIX + both[HEX:])
            legacy_input = None
            if legacy != -1:
                legacy_input = text(legacy)
                if legacy_input == (text(kept) or "")[DIGESTS:]:
                    legacy_input = None
        except (IndexError, ValueError, TypeError, KeyError):
            found.append(None)
            continue
        value = cached(item, characters, legacy_input, prints, project, reader, kept)
        found.append(_result((value,), ()))
    return found


def _encode_general(table: CacheTable, item: Item, result: ItemResult) -> None:
    table.number(GENERAL)
    table.number(len(result.rendered))
    for rendered in result.rendered:
        this, request = rendered.item, rendered.request
        own = (this.id, this.text, this.chunk) == (item.id, item.text, item.chunk)
        table.text(None if own else json.dumps([this.id, this.text, this.chunk]))
        table.text(request.item_id)
        table.text(request.input)
        table.text(rendered.legacy_input)
        table.number(rendered.characters)
        table.text(json.dumps(astuple(request.editing)))
        table.number(request.sample_rate)
        table.text(request.object_key)
        for value in (request.bucket, request.title, request.description, request.user_data):
            table.text(value)
        table.text(json.dumps(list(rendered.digests)))
        for value in rendered.digests.values():
            table.text(value)
        table.text(_problems(rendered.warnings))
    table.text(_problems(result.problems))


def _decode_general(reader: CacheReader, at: int, item: Item) -> ItemResult:
    ints, text = reader.ints, reader.text
    rendered = []
    at += 1  # past the form
    for _ in range(ints[at]):
        at += 1
        this = item
        part = text(ints[at])
        if part is not None:
            part_id, part_text, chunk = json.loads(part)
            this = replace(item, id=_str(part_id), text=_str(part_text), chunk=_opt(chunk))
        item_id, ssml, object_key = (
            text(ints[at + 1]),
            text(ints[at + 2]),
            text(ints[at + 7]),
        )
        if item_id is None or ssml is None or object_key is None:
            raise ValueError("a request without its id, input or object")
        request = revive(
            AudioRequest,
            item_id,
            ssml,
            reader.shared(ints[at + 5], _editing),
            ints[at + 6],
            object_key,
            text(ints[at + 8]),
            text(ints[at + 9]),
            text(ints[at + 10]),
            text(ints[at + 11]),
        )
        names = reader.shared(ints[at + 12], _names)
        end = at + 13 + len(names)
        digests = dict(zip(names, [text(i) for i in ints[at + 13 : end]], strict=True))
        if None in digests.values():
            raise ValueError("a digest without its value")
        warnings = _read_problems(text(ints[end]))
        legacy, characters = text(ints[at + 3]), ints[at + 4]
        rendered.append(
            revive(RenderedItem, this, request, characters, digests, warnings, legacy, None)
        )
        at = end
    return ItemResult(tuple(rendered), _read_problems(text(ints[at + 1])))


_result = maker(ItemResult)


def _editing(spelt: str) -> EditingConfig:
    voice, customized, audio_format, volume, speech, pitch = json.loads(spelt)
    if audio_format not in FORMATS:
        raise ValueError(audio_format)
    return EditingConfig(
        _opt(voice), _opt(customized), audio_format, _int(volume), _int(speech), _int(pitch)
    )


def _names(spelt: str) -> tuple[str, ...]:
    return tuple(map(_str, json.loads(spelt)))


def _problems(problems: tuple[Problem, ...]) -> str | None:
    if not problems:
        return None
    return json.dumps(
        [(*astuple(p.location), p.message, p.rule, p.item, p.severity) for p in problems]
    )


def _read_problems(spelt: str | None) -> tuple[Problem, ...]:
    if spelt is None:
        return ()
    problems = []
    for file, line, column, message, rule, item, severity in json.loads(spelt):
        if severity not in ("error", "warning"):
            raise ValueError(severity)
        location = Location(_str(file), _int(line), _int(column))
        problems.append(Problem(location, _str(message), _str(rule), _opt(item), severity))
    return tuple(problems)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _opt(value: object) -> str | None:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(value)
    return value


_RUN_WIDE = "steps over all items"  # sandbox.py's budget of a whole run, spent in order


def keepable(item: Item, result: ItemResult) -> bool:
    """Whether `result` is a function of its key alone: each request is of the item or of a
    part made from it by id, text and chunk (render/render.py), and no problem is the
    sandbox's budget over all items (which depends on the items rendered before it)."""
    for rendered in result.rendered:
        this = rendered.item
        # the item itself (as good as equal to itself replaced with its own id, text, chunk)
        if this is not item and this != replace(item, id=this.id, text=this.text, chunk=this.chunk):
            return False
        if rendered.request.item_id != this.id:
            return False
    if not result.problems and len(result.rendered) == 1 and not result.rendered[0].warnings:
        return True  # no problem at all, so none of the run-wide budget
    problems = [*result.problems, *(w for r in result.rendered for w in r.warnings)]
    return not any(_RUN_WIDE in p.message for p in problems)
