"""Frozen dataclasses made without their __init__ (voxform/frozen.py) are the values their
__init__ makes: equal, hashed alike, frozen, and refused for a class it would skip work of."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from voxform.errors import Location
from voxform.frozen import keyword_maker, maker
from voxform.ice.wire import AudioRequest, EditingConfig
from voxform.plan.plan import Change
from voxform.render.model import Item
from voxform.state.lockfile import LockEntry


def test_a_slotted_value_is_what_its_init_makes() -> None:
    where = Location("texts/a.md", 1, 1)
    values = ("books/a/p1", "Some text.", None, where, where, "texts/a.md", "sha256:00", True)
    made, built = maker(Item)(*values), Item(*values)  # type: ignore[arg-type]
    assert made == built
    assert hash(made) == hash(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.id = "other"  # type: ignore[misc]
    editing = EditingConfig("siqi", None, "mp3", 50, 0, 0)
    request = ("a", "<speak/>", editing, 16000, "gen/a", "bucket", None, None, None)
    assert maker(AudioRequest)(*request) == AudioRequest(*request)


def test_a_value_with_a_dict_is_what_its_init_makes() -> None:
    def change(make: Callable[..., Change]) -> Change:
        inputs = {"text": "x"}
        reasons = ("new item",)
        return make("a", "create", reasons, 12, "f", inputs, None, "out", True, (), (), "d", None)

    made, built = change(maker(Change)), change(Change)
    assert made == built
    assert dataclasses.replace(made, action="copy") == dataclasses.replace(built, action="copy")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.action = "delete"  # type: ignore[misc]


def test_every_field_must_be_given() -> None:
    with pytest.raises(TypeError):
        maker(Item)("only an id")
    with pytest.raises(TypeError):
        maker(Change)("a", "create")


def test_a_keyword_value_takes_the_defaults_it_leaves_out() -> None:
    made = keyword_maker(LockEntry)({"state": "finished", "fingerprint": "f", "characters": 3})
    assert made == LockEntry("finished", "f", 3)
    assert made.inputs == {}
    other = keyword_maker(LockEntry)({"state": "failed", "fingerprint": "f", "characters": 0})
    assert other.inputs is not made.inputs  # a default factory's value is each one's own
    with pytest.raises(TypeError):
        keyword_maker(LockEntry)({"state": "finished"})


def test_a_class_with_a_post_init_is_refused() -> None:
    @dataclass(frozen=True)
    class Checked:
        value: int
        seen: list[int] = field(default_factory=list)

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError(self.value)

    with pytest.raises(TypeError):
        maker(Checked)
    with pytest.raises(TypeError):
        keyword_maker(Checked)
