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
from voxform.manifest.model import Project, Voice
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


def request_for(project: Project, item: Item, final: str) -> AudioRequest:
    """The request that sends `final` for `item`."""
    settings = item.settings
    target = project.targets[settings.target]
    return _request(  # AudioRequest's fields in order: item_id, input, editing, sample_rate,
        item.id,  # object_key, bucket, title, description, user_data
        final,
        _editing(project.voices[settings.voice], settings.format),
        settings.sample_rate,
        target.prefix + item.id,
        target.bucket,
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
    target = project.targets[item.settings.target]
    digests = item_digests(made.core, target, request, item.settings.template)
    legacy = made.legacy if made.legacy != request.input else None
    return _rendered(item, request, made.characters, digests, warnings, legacy, prints)


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
