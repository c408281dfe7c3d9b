"""An item's request and digests put together from what only its render makes.

The SSML, the characters it speaks and five digests differ from item to item; the rest of
a request and of its digests comes from the item's settings, voice and target. A worker
process (parallel.py) sends only the former, and the parent puts the item together with
the same functions the render uses, so both are the same values.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from voxform.errors import Problem
from voxform.frozen import maker
from voxform.ice.wire import AudioFormat, AudioRequest, EditingConfig
from voxform.manifest.model import Project, Settings, Target, Voice
from voxform.render.inputs import Core, item_digests
from voxform.render.model import Item, Prints, RenderedItem


class Made(NamedTuple):
    """What only an item's render makes: the request's input, the characters it speaks,
    its core digests, and the input as spelt before canonical SSML."""

    final: str
    characters: int
    core: Core
    legacy: str
    item: Item


# Made without their __init__ (voxform/frozen.py): one of each for every item of a plan.
_request = maker(AudioRequest)
_rendered = maker(RenderedItem)


class _Shared(NamedTuple):
    """What the requests and digests of the items of one settings object share."""

    project: Project
    settings: Settings
    target: Target
    voice: Voice
    editing: EditingConfig
    prefix: str
    bucket: str | None
    digests: dict[str, str]  # item_digests with the core digests to be filled in


# (id of the project, id of the settings) -> what they share: items share their settings
# object, and hashing a Target or a Voice (dataclasses) for each of 100,000 items costs more
# than putting its request together. Entries hold both, so neither id is reused meanwhile.
_SHARED: dict[tuple[int, int], _Shared] = {}
_PLACEHOLDER: Core = ("", "", "", "", "")


def _shared(project: Project, settings: Settings) -> _Shared:
    found = _SHARED.get((id(project), id(settings)))
    target = project.targets[settings.target]
    voice = project.voices[settings.voice]
    if (
        found is not None
        and found.project is project
        and found.settings is settings
        and found.target is target  # a project is a mutable value: its target may be new
        and found.voice is voice
    ):
        return found
    editing = _editing(voice, settings.format)
    probe = AudioRequest("", "", editing, settings.sample_rate, "", target.bucket)
    digests = item_digests(_PLACEHOLDER, target, probe, settings.template)
    if len(_SHARED) >= 1024:
        _SHARED.clear()
    found = _Shared(
        project, settings, target, voice, editing, target.prefix, target.bucket, digests
    )
    _SHARED[(id(project), id(settings))] = found
    return found


def key_prefix(project: Project, settings: Settings) -> str:
    """What comes before the id in the object key of each item of `settings` (the key of
    its request: `request_for`)."""
    return _shared(project, settings).prefix


def request_for(project: Project, item: Item, final: str) -> AudioRequest:
    """The request that sends `final` for `item`."""
    return _request_of(item, _shared(project, item.settings), final)


def _request_of(item: Item, shared: _Shared, final: str) -> AudioRequest:
    """The request that sends `final` for `item`, whose settings share `shared`."""
    settings = item.settings
    return _request(  # AudioRequest's fields in order: item_id, input, editing, sample_rate,
        item.id,  # object_key, bucket, title, description, user_data
        final,
        shared.editing,
        settings.sample_rate,
        shared.prefix + item.id,
        shared.bucket,
        settings.title,
        settings.description,
        settings.user_data,
    )


def rendered_item(
    project: Project,
    request: AudioRequest,
    made: Made,
    warnings: tuple[Problem, ...] = (),
    prints: Prints | None = None,
) -> RenderedItem:
    """The rendered item of `made`, with every digest and shown value (and `prints`, its
    fingerprints when they are known: model.py)."""
    item = made.item
    digests = digests_of(project, item, request, made.core)
    legacy = made.legacy if made.legacy != request.input else None
    return _rendered(item, request, made.characters, digests, warnings, legacy, prints)


def digests_of(project: Project, item: Item, request: AudioRequest, core: Core) -> dict[str, str]:
    """Every digest and shown value of `item` rendered into `request`, with `core` the
    digests its render made."""
    settings = item.settings
    shared = _shared(project, settings)
    if request.editing is shared.editing and request.sample_rate == settings.sample_rate:
        return _shared_digests(shared, core)
    target = project.targets[settings.target]
    return item_digests(core, target, request, settings.template)


def _shared_digests(shared: _Shared, core: Core) -> dict[str, str]:
    """The digests of a request made of `shared` (its editing and sample rate), with `core`
    the digests its render made."""
    digests = shared.digests.copy()  # its keys in item_digests' order already
    digests["source"], digests["text"], digests["ssml"] = core[0], core[1], core[2]
    digests["output"], digests["location"] = core[3], core[4]
    return digests


def with_prints(rendered: RenderedItem, prints: Prints) -> RenderedItem:
    """`rendered` with its fingerprints known (model.py)."""
    return _rendered(
        rendered.item,
        rendered.request,
        rendered.characters,
        rendered.digests,
        rendered.warnings,
        rendered.legacy_input,
        prints,
    )


def made_of(rendered: RenderedItem) -> Made:
    """What only the render of `rendered` made (rendered_item makes it again)."""
    digests = rendered.digests
    core: Core = (
        *(digests["source"], digests["text"], digests["ssml"]),
        *(digests["output"], digests["location"]),
    )
    legacy = rendered.legacy_input or rendered.request.input
    return Made(rendered.request.input, rendered.characters, core, legacy, rendered.item)


def remade(project: Project, made: Made, prints: Prints | None = None) -> RenderedItem:
    """The rendered item a worker's `made` (or a cache's) stands for."""
    request = request_for(project, made.item, made.final)
    return rendered_item(project, request, made, (), prints)


def remade_plain(
    project: Project,
    item: Item,
    final: str,
    characters: int,
    core: Core,
    legacy: str,
    prints: Prints | None,
) -> RenderedItem:
    """remade(project, Made(final, characters, core, legacy, item), prints), with what the
    item's settings share looked up once: a worker's results are taken in by the 100,000."""
    shared = _shared(project, item.settings)
    request = _request_of(item, shared, final)
    spelt = legacy if legacy != final else None
    return _rendered(item, request, characters, _shared_digests(shared, core), (), spelt, prints)


@lru_cache(maxsize=256)
def _editing(voice: Voice, audio_format: AudioFormat) -> EditingConfig:
    """One EditingConfig for every item a voice speaks in a format."""
    return EditingConfig(
        voice=voice.voice,
        customized_voice=voice.customized_voice,
        format=audio_format,
        volume=voice.volume,
        speech_rate=voice.speech_rate,
        pitch_rate=voice.pitch_rate,
    )
