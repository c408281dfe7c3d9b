"""The values that flow out of the render stage."""

from __future__ import annotations

from dataclasses import dataclass, field

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


Prints = tuple[str, "str | None", str, str]


@dataclass(frozen=True, slots=True)
class RenderedItem:
    """An item rendered into the exact request a provider would get."""

    item: Item
    request: AudioRequest
    characters: int  # spoken characters (text content of the SSML)
    digests: dict[str, str]  # per-component digests: text, ssml, voice, output
    warnings: tuple[Problem, ...] = ()  # what the checks found doubtful, not wrong
    legacy_input: str | None = None  # the input as spelt before canonical SSML, if different
    # Its fingerprint and audio digest when they are known already (kept with its render in
    # the render cache): (provider kind, engine version, fingerprint, audio digest). Plan
    # uses them only for that provider and engine; they are no part of the value.
    prints: Prints | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return self.item.id
