"""The values that flow out of the render stage."""

from __future__ import annotations

from dataclasses import dataclass

from voxform.errors import Location, Problem
from voxform.ice.wire import AudioRequest
from voxform.manifest.model import Settings


@dataclass(frozen=True, slots=True)
class Item:
    """One audio object to produce, after sources are expanded into chunks."""

    id: str
    text: str
    settings: Settings
    location: Location
    text_location: Location
    source_file: str | None = None  # project-relative file the text came from
    chunk: str | None = None  # digest of the chunk's raw text, for sources
    splittable: bool = False


@dataclass(frozen=True, slots=True)
class RenderedItem:
    """An item rendered into the exact request a provider would get."""

    item: Item
    request: AudioRequest
    characters: int  # spoken characters (text content of the SSML)
    digests: dict[str, str]  # per-component digests: text, ssml, voice, output
    warnings: tuple[Problem, ...] = ()  # what the checks found doubtful, not wrong
    legacy_input: str | None = None  # the input as spelt before canonical SSML, if different

    @property
    def id(self) -> str:
        return self.item.id
