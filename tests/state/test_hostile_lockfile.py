"""A lockfile or journal that is not what voxform writes is refused in one sentence that
names the file, the line and column when JSON gives one, the item and the field; the command
exits 1 and the lockfile stays as it was. Nothing of it reaches a user as a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Runner, one_error
from voxform.paths import ID_PATTERN, id_problem
from voxform.state.journal import journal_path, read_state
from voxform.state.lockfile import (
    ITEM_ID,
    TOKEN,
    LockEntry,
    LockfileError,
    LockState,
    parse_entry,
    read_lockfile,
    write_lockfile,
)

FINGERPRINT = "sha256:" + "a" * 64
GOOD = (
    '"state": "finished", "fingerprint": "' + FINGERPRINT + '", "characters": 22,'
    ' "url": "build/audio/w.mp3"'
)


def lockfile(block: str, *, key: str = "welcome", version: str = "1") -> bytes:
    items = '{"' + key + '": {' + block + "}}"
    return ('{"items": ' + items + ', "lockfile_version": ' + version + "}\n").encode()


DEEP = "[" * 100_000 + "]" * 100_000

LOCKFILES = {
    "not-utf-8": (
        b'{"items": {"welcome\xff": {}}, "lockfile_version": 1}\n',
        "voxform.lock:1:20: lockfile is not UTF-8 text (byte 0xff)",
    ),
    "not-json": (b'{"items": {\n<<<<<<< HEAD\n', "voxform.lock:2:1: lockfile is not valid JSON"),
    "version-true": (lockfile(GOOD, version="true"), "unsupported lockfile_version: true"),
    "version-float": (lockfile(GOOD, version="1.0"), "unsupported lockfile_version: 1.0"),
    "version-2": (
        lockfile(GOOD, version="2"),
        "unsupported lockfile_version: 2 (this voxform reads version 1; a newer",
    ),
    "version-missing": (b'{"items": {}}', "voxform.lock: no lockfile_version"),
    "version-5000-digits": (
        lockfile(GOOD, version="1" + "0" * 4999),
        "unsupported lockfile_version: a 5000-digit number",
    ),
    "deep": (
        lockfile(GOOD + ', "inputs": ' + DEEP),
        "voxform.lock: lockfile is nested too deeply to read",
    ),
    "duplicate-item": (
        b'{"items": {"welcome": {%s}, "welcome": {%s}}, "lockfile_version": 1}'
        % (GOOD.encode(), GOOD.encode()),
        "voxform.lock: lockfile has the key 'welcome' twice",
    ),
    "not-an-object": (b"[1, 2]", "voxform.lock: lockfile must be a JSON object, not a list"),
    "unknown-top-key": (
        b'{"items": {}, "lockfile_version": 1, "serial": 4}',
        "voxform.lock: unknown key 'serial'",
    ),
    "items-list": (b'{"items": [], "lockfile_version": 1}', "'items' must be an object"),
    "bad-item-id": (
        lockfile(GOOD, key="Welcome\\n::error::x"),
        "voxform.lock: item 'Welcome\\n::error::x' is not an item id",
    ),
    "entry-list": (
        b'{"items": {"welcome": [1]}, "lockfile_version": 1}',
        "voxform.lock: item 'welcome' must be an object, not a list",
    ),
    "inputs-list": (
        lockfile(GOOD + ', "inputs": [1]'),
        "item 'welcome': 'inputs' must be an object of strings, not a list",
    ),
    "inputs-number": (
        lockfile(GOOD + ', "inputs": {"text": 1}'),
        "item 'welcome': 'inputs' must be an object of strings, not 'text': 1",
    ),
    "url-list": (
        lockfile(GOOD.replace('"build/audio/w.mp3"', '["x"]')),
        "item 'welcome': 'url' must be a string, not a list",
    ),
    "job-id-number": (
        lockfile(GOOD + ', "job_id": 7'),
        "item 'welcome': 'job_id' must be a string, not 7",
    ),
    "duration-1e999": (
        lockfile(GOOD + ', "duration": 1e999'),
        "item 'welcome': 'duration' must be a finite number of seconds, 0 or more, not 1e999",
    ),
    "duration-nan": (lockfile(GOOD + ', "duration": NaN'), "'duration' must be a finite"),
    "duration-negative": (lockfile(GOOD + ', "duration": -1'), "'duration' must be a finite"),
    "duration-true": (lockfile(GOOD + ', "duration": true'), "'duration' must be a finite"),
    "characters-5000-digits": (
        lockfile(GOOD.replace('"characters": 22', '"characters": ' + "9" * 5000)),
        "item 'welcome': 'characters' must be a whole number from 0 to 2^53,"
        " not a 5000-digit number",
    ),
    "characters-string": (
        lockfile(GOOD.replace('"characters": 22', '"characters": "22"')),
        "'characters' must be a whole number",
    ),
    "characters-true": (
        lockfile(GOOD.replace('"characters": 22', '"characters": true')),
        "'characters' must be a whole number",
    ),
    "fingerprint-short": (
        lockfile(GOOD.replace(FINGERPRINT, "sha256:ab")),
        "item 'welcome': 'fingerprint' must be 'sha256:' and 64 hex digits, not 'sha256:ab'",
    ),
    "fingerprint-missing": (
        lockfile(GOOD.replace('"fingerprint": "' + FINGERPRINT + '", ', "")),
        "item 'welcome' has no 'fingerprint'",
    ),
    "state-unknown": (
        lockfile(GOOD.replace('"finished"', '"lost"')),
        "item 'welcome': 'state' must be finished, pending or failed, not 'lost'",
    ),
    "unknown-field": (
        lockfile(GOOD + ', "duraton": 1'),
        "item 'welcome': unknown field 'duraton' (did you mean 'duration'?)",
    ),
    "subtitles-null-member": (
        lockfile(GOOD + ', "subtitles": {"vtt": null}'),
        "item 'welcome': 'subtitles' must be an object of strings, not 'vtt': null",
    ),
    "lone-surrogate": (
        lockfile(GOOD + ', "error_message": "\\ud800"'),
        "item 'welcome': 'error_message' must be a string",
    ),
    "outputs-size": (
        lockfile(
            GOOD + ', "outputs": {"build/audio/w.mp3": {"sha256": "%s", "size": -1}}' % ("0" * 64)
        ),
        "item 'welcome': output 'build/audio/w.mp3' needs a sha256",
    ),
}


@pytest.mark.parametrize(("data", "message"), LOCKFILES.values(), ids=LOCKFILES.keys())
def test_a_hostile_lockfile_is_refused_in_one_sentence_and_left_as_it_was(
    quickstart: Path, voxform: Runner, data: bytes, message: str
) -> None:
    lock = quickstart / "voxform.lock"
    lock.write_bytes(data)

    result = voxform(quickstart, "apply", "--yes")

    one_error(result, message)
    assert lock.read_bytes() == data
    assert sorted(p.name for p in quickstart.iterdir() if "lock" in p.name) == ["voxform.lock"]


def test_the_good_block_the_cases_start_from_is_accepted(quickstart: Path, voxform: Runner) -> None:
    (quickstart / "voxform.lock").write_bytes(lockfile(GOOD + ', "duration": 1.5'))
    result = voxform(quickstart, "status")
    assert result.exit_code == 0, result.output


def journal_line(entry: str = "{" + GOOD + "}", at: str = "1.0", key: str = '"welcome"') -> bytes:
    return ('{"at": ' + at + ', "entry": ' + entry + ', "id": ' + key + "}\n").encode()


DURATION = ":1: item 'welcome': 'duration' must be a finite number of seconds, 0 or more"
JOURNALS = {
    "at-nan": (journal_line(at="NaN"), ":1: 'at' must be a time in seconds since 1970, not NaN"),
    "at-string": (journal_line(at='"noon"'), ":1: 'at' must be a time"),
    "id-list": (journal_line(key='["welcome"]'), ":1: 'id' must be an item id, not a list"),
    "id-missing": (b'{"at": 1.0, "entry": null}\n', ":1: record has no 'id'"),
    "entry-missing": (b'{"at": 1.0, "id": "welcome"}\n', ":1: record has no 'entry'"),
    "unknown-key": (
        b'{"at": 1.0, "entry": null, "id": "welcome", "x": 1}\n',
        ":1: unknown key 'x' in a journal record",
    ),
    "duration-infinity": (
        journal_line("{" + GOOD + ', "duration": Infinity}'),
        DURATION + ", not Infinity",
    ),
    "characters-5000-digits": (
        journal_line("{" + GOOD.replace("22", "9" * 5000) + "}"),
        ":1: item 'welcome': 'characters' must be a whole number",
    ),
    "deep": (DEEP.encode() + b"\n", ":1: journal record is nested too deeply to read"),
    "not-utf-8": (
        b'{"at": 1.0, "entry": null, "id": "w\xc3"}\n',
        ":1:36: journal record is not UTF-8 text (byte 0xc3)",
    ),
    "not-json": (b"{not json\n", ":1:2: journal record is not valid JSON"),
    "not-an-object": (b"[1, 2]\n", ":1: journal record must be a JSON object, not a list"),
}


@pytest.mark.parametrize(("data", "message"), JOURNALS.values(), ids=JOURNALS.keys())
def test_a_hostile_journal_record_is_refused_naming_its_line(
    quickstart: Path, voxform: Runner, data: bytes, message: str
) -> None:
    lock = quickstart / "voxform.lock"
    lock.write_bytes(lockfile(GOOD))
    journal = journal_path(quickstart, lock)
    journal.parent.mkdir()
    journal.write_bytes(data)

    result = voxform(quickstart, "apply", "--yes")

    line = one_error(result, f"{journal}{message}", "move the journal aside")
    assert line.index(str(journal)) == len("error: ")
    assert lock.read_bytes() == lockfile(GOOD)
    assert journal.read_bytes() == data


# --- the reader directly ------------------------------------------------------------------


def test_every_lockentry_field_is_checked() -> None:
    """A field added to LockEntry without a check would be accepted unread."""
    from voxform.state import lockfile as module

    assert set(module._CHECKS) | {"outputs"} == set(module._FIELD_NAMES)


@given(st.from_regex(ID_PATTERN, fullmatch=True) | st.text("a/.-", max_size=8))
def test_the_lockfile_takes_exactly_the_ids_a_manifest_may_name(item_id: str) -> None:
    assert bool(ITEM_ID.fullmatch(item_id)) == (id_problem(item_id) is None)


def test_null_is_the_same_as_absent_for_optional_fields() -> None:
    raw = {"state": "pending", "fingerprint": FINGERPRINT, "characters": 0, "job_id": None}
    assert parse_entry("x", "a", raw, "fix it") == LockEntry("pending", FINGERPRINT, 0)


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_digest = st.text("0123456789abcdef", min_size=64, max_size=64).map(lambda h: "sha256:" + h)
_entries = st.builds(
    LockEntry,
    state=st.sampled_from(["finished", "pending", "failed"]),
    fingerprint=_digest,
    characters=st.integers(min_value=0, max_value=2**53 - 1),
    inputs=st.dictionaries(_text, _text, max_size=4),
    chunk=st.none() | _text,
    job_id=st.none() | _text,
    media_id=st.none() | _text,
    url=st.none() | _text,
    duration=st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    subtitles=st.none() | st.dictionaries(_text, _text, max_size=2),
    error_code=st.none() | _text,
    error_message=st.none() | _text,
    token=st.none() | st.from_regex(TOKEN, fullmatch=True),
)
_ids = st.from_regex(ID_PATTERN, fullmatch=True).filter(lambda i: len(i) <= 40)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(st.dictionaries(_ids, _entries, max_size=5))
def test_whatever_voxform_writes_it_reads_back(tmp_path: Path, items: dict[str, LockEntry]) -> None:
    path = tmp_path / "voxform.lock"
    write_lockfile(path, LockState(dict(items)))
    assert read_lockfile(path).items == items


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(
    field=st.sampled_from(
        [
            "state",
            "fingerprint",
            "characters",
            "inputs",
            "chunk",
            "url",
            "duration",
            "subtitles",
            "outputs",
            "token",
            "other",
        ]
    ),
    value=_json,
)
def test_any_value_in_any_field_is_read_or_refused_never_raised(
    tmp_path: Path, field: str, value: object
) -> None:
    block = {"state": "finished", "fingerprint": FINGERPRINT, "characters": 1, field: value}
    path = tmp_path / "voxform.lock"
    path.write_text(json.dumps({"items": {"a": block}, "lockfile_version": 1}))
    try:
        state = read_lockfile(path)
    except LockfileError as error:
        assert str(error).startswith(f"{path}: item 'a'")
        return
    write_lockfile(tmp_path / "again.lock", state)  # what is accepted can be written back
    assert read_lockfile(tmp_path / "again.lock") == state


def test_a_journal_alone_is_read_with_the_same_checks(tmp_path: Path) -> None:
    lock = tmp_path / "voxform.lock"
    journal = journal_path(tmp_path, lock)
    journal.parent.mkdir()
    journal.write_bytes(journal_line())
    assert read_state(lock, journal).state.items["welcome"].characters == 22
