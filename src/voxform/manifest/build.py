"""Building the typed Project from parsed manifests: sections merged across files, entries
resolved against defaults, references checked with "did you mean"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from voxform.errors import Location, did_you_mean
from voxform.ice.limits import DEFAULT_MAX_INPUT_CHARS, DEFAULT_SAMPLE_RATE, DEFAULT_VOLUME
from voxform.ice.voices import ICE_VOICES
from voxform.ice.wire import SUBMIT, AudioFormat
from voxform.manifest.checks import (
    Findings,
    check_endpoint,
    check_file,
    check_inside,
    check_metadata,
    check_prefix,
    check_user_data,
    glob_base,
)
from voxform.manifest.model import (
    BUILTIN_TEMPLATE,
    ItemSpec,
    LexiconEntry,
    Project,
    ProviderKind,
    Settings,
    SourceSpec,
    Split,
    Target,
    Voice,
)
from voxform.manifest.values import as_dict, as_int, as_list, has_bad, opt_str
from voxform.manifest.yamlpos import Document, KeyPath


def merge_sections(ctx: Findings, project: Project, doc: Document, bad: set[KeyPath]) -> None:
    """Targets, voices, templates and the lexicon of one file, added to `project`."""
    data = doc.data if isinstance(doc.data, dict) else {}
    seen: dict[str, dict[str, Location]] = {"targets": {}, "voices": {}, "templates": {}}
    for section in seen:
        for name, value in as_dict(data.get(section)).items():
            path = (section, name)
            shape = str if section == "templates" else dict
            if has_bad(bad, path) or not isinstance(name, str) or not isinstance(value, shape):
                project.broken.add((section, str(name)))
                continue
            key_where = doc.where(path, key=True)
            existing = {
                "targets": set(project.targets),
                "voices": set(project.voices),
                "templates": set(project.templates),
            }[section]
            if name in existing:
                ctx.add(key_where, f"{section[:-1]} {name!r} is defined twice", "duplicate-name")
                continue
            if section == "targets":
                project.targets[name] = _target(ctx, doc, name, cast(dict[str, object], value))
            elif section == "voices":
                voice = _voice(name, cast(dict[str, object], value))
                if not _known_voice(ctx, doc, voice, cast(dict[str, object], value)):
                    project.broken.add((section, name))
                    continue
                project.voices[name] = voice
            else:
                rel = str(value)
                if check_file(ctx, doc.where(path), rel, "template"):
                    project.templates[name] = rel
                    project.template_locations[name] = doc.where(path)
                else:
                    project.broken.add((section, name))
    for index, entry in enumerate(as_list(data.get("lexicon"))):
        if has_bad(bad, ("lexicon", index)) or not isinstance(entry, dict):
            continue
        project.lexicon.append(
            LexiconEntry(
                match=str(entry["match"]),
                alias=entry.get("alias"),
                phoneme=entry.get("phoneme"),
                alphabet=str(entry.get("alphabet", "py")),
                ignore_case=bool(entry.get("ignore_case", False)),
            )
        )


def _target(ctx: Findings, doc: Document, name: str, value: dict[str, object]) -> Target:
    provider = cast(ProviderKind, value.get("provider", "local"))  # the schema checked it
    path = value.get("path")
    if isinstance(path, str):
        check_inside(ctx, doc.where(("targets", name, "path")), path, "target path")
    prefix = str(value.get("prefix", ""))
    check_prefix(ctx, doc.where(("targets", name, "prefix")), prefix)
    endpoint, insecure = opt_str(value.get("endpoint")), value.get("insecure") is True
    check_endpoint(
        ctx,
        name,
        endpoint,
        doc.where(("targets", name, "endpoint")),
        doc.where(("targets", name, "insecure")) if insecure else None,
    )
    oss_endpoint = opt_str(value.get("oss_endpoint"))
    if oss_endpoint is not None and not insecure:  # insecure: warned of once, above
        where = doc.where(("targets", name, "oss_endpoint"))
        check_endpoint(ctx, name, oss_endpoint, where, None)
    limit = value.get("max_input_chars", DEFAULT_MAX_INPUT_CHARS)
    rate_limits = {
        key: float(limit)
        for key, limit in as_dict(value.get("rate_limits")).items()
        if isinstance(limit, (int, float))
    }
    rate = value.get("rate_limit")
    if isinstance(rate, (int, float)):
        rate_limits.setdefault(SUBMIT, float(rate))
    return Target(
        name=name,
        provider=provider,
        path=path if isinstance(path, str) else None,
        region=opt_str(value.get("region")),
        bucket=opt_str(value.get("bucket")),
        prefix=prefix,
        endpoint=endpoint,
        oss_endpoint=oss_endpoint,
        insecure=insecure,
        rate_limits=rate_limits,
        max_input_chars=int(limit) if isinstance(limit, int) else DEFAULT_MAX_INPUT_CHARS,
    )


def _voice(name: str, value: dict[str, object]) -> Voice:
    return Voice(
        name=name,
        voice=opt_str(value.get("voice")),
        customized_voice=opt_str(value.get("customized_voice")),
        volume=as_int(value.get("volume"), DEFAULT_VOLUME),
        speech_rate=as_int(value.get("speech_rate"), 0),
        pitch_rate=as_int(value.get("pitch_rate"), 0),
    )


def _known_voice(ctx: Findings, doc: Document, voice: Voice, value: dict[str, object]) -> bool:
    """An ICE voice id from ICE's table (any case), `espeak:<name>`, or one the manifest
    vouches for with `allow_unknown: true` (a voice newer than the table)."""
    name = voice.voice
    if name is None or value.get("allow_unknown") is True or name.lower() in ICE_VOICES:
        return True
    if name.lower().startswith("espeak:"):
        return True
    ctx.add(
        doc.where(("voices", voice.name, "voice")),
        f"unknown ICE voice {name!r}{did_you_mean(name.lower(), ICE_VOICES)}; for a voice newer "
        "than voxform's table, set allow_unknown: true on this voice",
        "unknown-voice",
    )
    return False


def collect_entries(
    ctx: Findings,
    project: Project,
    doc: Document,
    bad: set[KeyPath],
    defaults: dict[str, object],
    main: Document,
) -> None:
    """The items and sources of one file, with defaults applied, added to `project`."""
    for path, entry, locations, settings in _entries(
        ctx, project, doc, bad, "items", defaults, main
    ):
        source = opt_str(entry.get("source"))
        if source is not None and not check_file(ctx, locations["source"], source, "source"):
            continue
        project.items.append(
            ItemSpec(
                id=str(entry["id"]),
                settings=settings,
                location=doc.where(path),
                text=opt_str(entry.get("text")),
                source=source,
                locations=locations,
            )
        )
    for path, entry, locations, settings in _entries(
        ctx, project, doc, bad, "sources", defaults, main
    ):
        pattern = str(entry["glob"])
        if not check_inside(ctx, locations["glob"], glob_base(pattern), "glob"):
            continue
        project.sources.append(
            SourceSpec(
                id=str(entry["id"]),
                glob=pattern,
                split=cast(Split, entry.get("split", "paragraph")),
                settings=settings,
                location=doc.where(path),
                locations=locations,
            )
        )


def _entries(
    ctx: Findings,
    project: Project,
    doc: Document,
    bad: set[KeyPath],
    section: str,
    defaults: dict[str, object],
    main: Document,
) -> Iterator[tuple[KeyPath, dict[str, object], dict[str, Location], Settings]]:
    """The schema-valid entries of `section` whose settings resolve, with where each was set."""
    data = doc.data if isinstance(doc.data, dict) else {}
    for index, entry in enumerate(as_list(data.get(section))):
        path: KeyPath = (section, index)
        if has_bad(bad, path) or not isinstance(entry, dict):
            continue
        locations = _field_locations(doc, path, entry, defaults, main)
        settings = _settings(ctx, project, entry, defaults, locations)
        if settings is not None:
            yield path, entry, locations, settings


def _field_locations(
    doc: Document,
    path: KeyPath,
    entry: dict[str, object],
    defaults: dict[str, object],
    main: Document,
) -> dict[str, Location]:
    """Where each setting of an entry was written: on the entry, or inherited from defaults."""
    locations = {"entry": doc.where(path)}
    for key in ("id", "text", "source", "glob", "title", "description", "user_data", "vars"):
        if key in entry:
            locations[key] = doc.where((*path, key))
    for key in ("template", "voice", "target", "format", "sample_rate"):
        if key in entry:
            locations[key] = doc.where((*path, key))
        elif key in defaults:
            locations[key] = main.where(("defaults", key))
        else:
            locations[key] = doc.where(path)
    return locations


def _settings(
    ctx: Findings,
    project: Project,
    entry: dict[str, object],
    defaults: dict[str, object],
    locations: dict[str, Location],
) -> Settings | None:
    def pick(key: str, fallback: object) -> object:
        return entry.get(key, defaults.get(key, fallback))

    ok = True
    template = str(pick("template", BUILTIN_TEMPLATE))
    if template not in project.templates and template != BUILTIN_TEMPLATE:
        if ("templates", template) not in project.broken:
            ctx.add(
                locations["template"],
                f"unknown template {template!r}{did_you_mean(template, project.templates)}",
                "unknown-reference",
            )
        ok = False
    voice = _reference(ctx, project, "voice", pick("voice", None), locations["voice"])
    target = _reference(ctx, project, "target", pick("target", None), locations["target"])
    title, description = opt_str(entry.get("title")), opt_str(entry.get("description"))
    ok = check_metadata(ctx, "title", title, locations) and ok
    ok = check_metadata(ctx, "description", description, locations) and ok
    user_data = check_user_data(ctx, entry.get("user_data"), locations.get("user_data"))
    if voice is None or target is None or (user_data is False):
        return None
    if not ok:
        return None
    return Settings(
        template=template,
        voice=voice,
        target=target,
        format=cast(AudioFormat, pick("format", "mp3")),
        sample_rate=as_int(pick("sample_rate", DEFAULT_SAMPLE_RATE), DEFAULT_SAMPLE_RATE),
        vars=as_dict(entry.get("vars")),
        title=title,
        description=description,
        user_data=user_data if isinstance(user_data, str) else None,
    )


def _reference(
    ctx: Findings, project: Project, kind: str, name: object, where: Location
) -> str | None:
    """The name of the voice or target an entry uses; a problem (once per place) if none."""
    table: dict[str, Voice] | dict[str, Target] = (
        project.voices if kind == "voice" else project.targets
    )
    if name is None:
        if len(table) == 1:
            return next(iter(table))
        if not table and any(section == f"{kind}s" for section, _ in project.broken):
            return None  # the one defined is broken, and said so where it is
        hint = (
            f"define one under {kind}s:"
            if not table
            else f"set defaults.{kind} or the entry's {kind}"
        )
        ctx.add(where, f"no {kind} chosen: {hint}", "unknown-reference")
        return None
    if str(name) not in table:
        if (f"{kind}s", str(name)) not in project.broken:
            ctx.add(
                where,
                f"unknown {kind} {name!r}{did_you_mean(str(name), table)}",
                "unknown-reference",
            )
        return None
    return str(name)
