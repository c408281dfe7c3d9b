"""Ids and tokens in the lockfile and the journal are what voxform writes, and no bigger.

An id is the manifests' rule with its 200-character limit (an id names an object key of at
most 1,023 bytes and appears in every message); a token is the 20 hex digits apply makes.
Anything else is a hand edit: one error naming the file, the line and the item, nothing
rewritten.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import Runner, one_error
from voxform.apply.flight import new_token
from voxform.paths import ID_MAX, id_problem
from voxform.state.journal import Journal, journal_path, read_state
from voxform.state.lockfile import LockEntry, LockState, read_lockfile, write_lockfile

FINGERPRINT = "sha256:" + "a" * 64
BLOCK = {"state": "finished", "fingerprint": FINGERPRINT, "characters": 22}
INTENT = {"state": "pending", "fingerprint": FINGERPRINT, "characters": 22}


def lockfile(items: dict[str, object]) -> bytes:
    return json.dumps({"items": items, "lockfile_version": 1}).encode() + b"\n"


LONG = "a" * 100_000
IDS = {
    "100000-characters": (LONG, "item 'aaaa", "100,000 characters, of at most 200"),
    "201-characters": ("b" * (ID_MAX + 1), "201 characters, of at most 200"),
    "dot-dot-part": ("lessons/../../etc", "item 'lessons/../../etc' is not an item id"),
    "empty-part": ("lessons//intro", "item 'lessons//intro' is not an item id"),
    "dot-part": ("lessons/.hidden", "item 'lessons/.hidden' is not an item id"),
    "trailing-slash": ("lessons/", "item 'lessons/' is not an item id"),
}


@pytest.mark.parametrize(("key", "needles"), [(k, n) for k, *n in IDS.values()], ids=IDS.keys())
def test_a_lockfile_id_a_manifest_could_not_name_is_refused_naming_it(
    quickstart: Path, voxform: Runner, key: str, needles: list[str]
) -> None:
    lock = quickstart / "voxform.lock"
    data = lockfile({key: BLOCK})
    lock.write_bytes(data)

    result = voxform(quickstart, "plan")

    line = one_error(result, f"{lock}: ", *needles, "fix it or restore it from git")
    assert len(line) < 600  # the id is quoted, not copied out whole
    assert lock.read_bytes() == data


TOKENS = {
    "newline": "0123456789abcdef0123\n::warning::forged",
    "upper-case": "0123456789ABCDEF0123",
    "too-short": "0123456789",
    "too-long": "0123456789abcdef01234",
    "100000-characters": "0" * 100_000,
    "empty": "",
}


@pytest.mark.parametrize("token", TOKENS.values(), ids=TOKENS.keys())
def test_a_lockfile_token_voxform_did_not_make_is_refused_naming_the_item(
    quickstart: Path, voxform: Runner, token: str
) -> None:
    lock = quickstart / "voxform.lock"
    data = lockfile({"welcome": {**INTENT, "token": token}})
    lock.write_bytes(data)

    result = voxform(quickstart, "status")

    line = one_error(result, f"{lock}: item 'welcome': 'token' must be 20 hex digits")
    assert "::warning::" not in result.output.replace(line, "")
    assert len(line) < 600
    assert lock.read_bytes() == data


def journal_record(key: str, entry: dict[str, object]) -> bytes:
    return json.dumps({"at": 1.0, "entry": entry, "id": key}).encode() + b"\n"


@pytest.mark.parametrize(
    ("record", "needle"),
    [
        (journal_record(LONG, INTENT), ":2: 'id' must be an item id, not 'aaaa"),
        (journal_record("a/../../b", INTENT), ":2: 'id' must be an item id, not 'a/../../b'"),
        (
            journal_record("welcome", {**INTENT, "token": "0123456789abcdef0123\nx"}),
            ":2: item 'welcome': 'token' must be 20 hex digits",
        ),
    ],
    ids=["long-id", "dot-dot-id", "token-newline"],
)
def test_a_journal_record_with_such_an_id_or_token_is_refused_naming_its_line(
    quickstart: Path, voxform: Runner, record: bytes, needle: str
) -> None:
    lock = quickstart / "voxform.lock"
    journal = journal_path(quickstart, lock)
    journal.parent.mkdir()
    good = journal_record("welcome", {**INTENT, "token": new_token()})
    journal.write_bytes(good + record)

    result = voxform(quickstart, "plan")

    line = one_error(result, f"{journal}{needle}", "move the journal aside")
    assert len(line) < 600
    assert journal.read_bytes() == good + record
    assert not lock.exists()


def test_the_longest_id_and_every_token_voxform_makes_are_read_back(tmp_path: Path) -> None:
    longest = "/".join(["c" * 99, "d" * 100])
    assert len(longest) == ID_MAX and id_problem(longest) is None
    tokens = [new_token() for _ in range(200)]
    assert all(re.fullmatch("[0-9a-f]{20}", token) for token in tokens)  # the rule's shape
    items = {
        f"item-{n}": LockEntry("pending", FINGERPRINT, 1, token=t) for n, t in enumerate(tokens)
    }
    items[longest] = LockEntry("finished", FINGERPRINT, 1)
    lock = tmp_path / "voxform.lock"
    write_lockfile(lock, LockState(dict(items)))
    assert read_lockfile(lock).items == items

    journal = Journal(lock, journal_path(tmp_path, lock))
    journal.open()
    journal.record(longest, LockEntry("pending", FINGERPRINT, 2, token=tokens[0]))
    journal.flush()
    journal.close(None)  # left as a crash leaves it
    assert read_state(lock, journal_path(tmp_path, lock)).state.items[longest].token == tokens[0]
