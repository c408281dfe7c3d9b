"""The typed project model that the manifests describe."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voxform.errors import Location
from voxform.ice.limits import DEFAULT_MAX_INPUT_CHARS
from voxform.ice.wire import AudioFormat

Split = Literal["none", "paragraph", "sentence"]
ProviderKind = Literal["local", "ice"]

BUILTIN_TEMPLATE = "plain"


@dataclass(frozen=True)
class Target:
    """Where audio goes: a local directory or an OSS bucket through ICE."""

    name: str
    provider: ProviderKind
    path: str | None = None
    region: str | None = None
    bucket: str | None = None
    prefix: str = ""
    endpoint: str | None = None
    oss_endpoint: str | None = None  # the bucket's OSS endpoint instead of the region's
    insecure: bool = False  # plain http to a host other than this machine is accepted
    rate_limits: dict[str, float] = field(default_factory=dict, hash=False)  # per operation
    max_input_chars: int = DEFAULT_MAX_INPUT_CHARS


@dataclass(frozen=True)
class Voice:
    """A named voice profile, ICE's EditingConfig minus the format."""

    name: str
    voice: str | None
    customized_voice: str | None = None
    volume: int = 50
    speech_rate: int = 0
    pitch_rate: int = 0

    @property
    def has_emotions(self) -> bool:
        """Multi-emotion voices (`*_emo`) accept `<emotion>`."""
        return bool(self.voice and self.voice.lower().endswith("_emo"))


@dataclass(frozen=True)
class LexiconEntry:
    """A word replaced before templating by a spoken alias or a phoneme."""

    match: str
    alias: str | None = None
    phoneme: str | None = None
    alphabet: str = "py"
    ignore_case: bool = False


@dataclass(frozen=True)
class Settings:
    """The choices an item or source may set and otherwise inherits from defaults."""

    template: str
    voice: str
    target: str
    format: AudioFormat
    sample_rate: int
    vars: dict[str, object] = field(default_factory=dict, hash=False)
    title: str | None = None
    description: str | None = None
    user_data: str | None = None


@dataclass(frozen=True)
class ItemSpec:
    """One `items:` entry: inline text or one whole source file."""

    id: str
    settings: Settings
    location: Location
    text: str | None = None
    source: str | None = None
    locations: dict[str, Location] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class SourceSpec:
    """One `sources:` entry: many items from the files a glob matches."""

    id: str
    glob: str
    split: Split
    settings: Settings
    location: Location
    locations: dict[str, Location] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Project:
    """Everything the manifests say, resolved and merged across includes."""

    root: Path
    name: str
    targets: dict[str, Target]
    voices: dict[str, Voice]
    templates: dict[str, str]
    template_locations: dict[str, Location]
    lexicon: list[LexiconEntry]
    items: list[ItemSpec]
    sources: list[SourceSpec]
    files: list[str]
    # Names defined with an error already reported: a reference to one is not a second error.
    broken: set[tuple[str, str]] = field(default_factory=set)
