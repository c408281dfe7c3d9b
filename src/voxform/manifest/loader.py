"""Load voxform.yaml and its includes into a Project, collecting every problem."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from voxform.errors import Location, ManifestError, PathEscapeError, Problem
from voxform.ice.wire import AudioFormat
from voxform.manifest.model import (
    BUILTIN_TEMPLATE,
    DEFAULT_MAX_INPUT_CHARS,
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
from voxform.manifest.schema import schema_problems, suggest
from voxform.manifest.yamlpos import Document, Path_, load_yaml_text
from voxform.paths import inside, relative_to_root

MANIFEST = "voxform.yaml"
TITLE_BYTES, DESCRIPTION_BYTES, USER_DATA_BYTES = 128, 1024, 512
ROOT_ONLY = ("version", "name", "defaults", "include")


@dataclass
class _Context:
    root: Path
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: Location, message: str, rule: str) -> None:
        self.problems.append(Problem(where, message, rule))


def load_project(root: Path, manifest: str = MANIFEST) -> tuple[Project, list[Problem]]:
    """Read the project at `root`; the Project holds every entry that could be understood."""
    root = root.resolve()
    main_file = root / manifest
    if not main_file.is_file():
        raise ManifestError(
            [Problem(Location(manifest, 1, 1), f"no {manifest} in {root}", "missing-manifest")]
        )
    ctx = _Context(root)
    main = _read(ctx, main_file)
    docs = [main]
    data = main.data if isinstance(main.data, dict) else {}
    if isinstance(main.data, dict) and "version" not in main.data:
        ctx.add(main.where(()), "missing required key 'version' (use version: 1)", "schema")
    for index, pattern in enumerate(_list(data.get("include"))):
        if isinstance(pattern, str):
            docs.extend(_includes(ctx, main, index, pattern, main_file))
    project = Project(
        root=root,
        name=str(data.get("name", root.name)),
        targets={},
        voices={},
        templates={},
        template_locations={},
        lexicon=[],
        items=[],
        sources=[],
        files=[d.file for d in docs],
    )
    bad_by_doc: dict[str, set[Path_]] = {}
    for doc in docs:
        if doc.data is None:
            bad_by_doc[doc.file] = set()
            continue
        problems, bad = schema_problems(doc)
        ctx.problems.extend(problems)
        bad_by_doc[doc.file] = bad
    defaults = (
        _dict(data.get("defaults")) if not _has_bad(bad_by_doc[main.file], ("defaults",)) else {}
    )
    for doc in docs:
        _merge(ctx, project, doc, bad_by_doc[doc.file], is_main=doc is main)
    for doc in docs:
        _collect_entries(ctx, project, doc, bad_by_doc[doc.file], defaults, main)
    _check_ids(ctx, project, docs)
    return project, ctx.problems


def _read(ctx: _Context, path: Path) -> Document:
    rel = relative_to_root(ctx.root, path)
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        ctx.add(Location(rel, 1, 1), f"not UTF-8 text: {exc.reason}", "encoding")
        return Document(rel, None)
    doc = load_yaml_text(text, rel)
    ctx.problems.extend(doc.problems)
    if doc.data is not None and not isinstance(doc.data, dict):
        ctx.add(doc.where(()), "a manifest must be a mapping of keys", "schema")
        doc.data = None
    return doc


def _includes(
    ctx: _Context, main: Document, index: int, pattern: str, main_file: Path
) -> list[Document]:
    where = main.where(("include", index))
    try:
        inside(ctx.root, _glob_base(pattern))
    except PathEscapeError as exc:
        ctx.add(where, f"include {exc}", "path-escape")
        return []
    docs = []
    matches = sorted(p for p in ctx.root.glob(pattern) if p.is_file())
    if not matches:
        ctx.add(where, f"include {pattern!r} matches no files", "missing-file")
    for path in matches:
        if path.resolve() == main_file.resolve():
            continue
        try:
            inside(ctx.root, relative_to_root(ctx.root, path))
        except PathEscapeError as exc:
            ctx.add(where, f"include {exc}", "path-escape")
            continue
        doc = _read(ctx, path)
        if isinstance(doc.data, dict):
            for key in ROOT_ONLY:
                if key in doc.data:
                    ctx.add(
                        doc.where((key,), key=True),
                        f"{key!r} belongs in {MANIFEST} only, not in an included file",
                        "include",
                    )
        docs.append(doc)
    return docs


def _glob_base(pattern: str) -> str:
    """The part of a glob before its first wildcard, for the inside-the-root check."""
    parts = []
    for part in pattern.split("/"):
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return "/".join(parts) or "."


def _merge(ctx: _Context, project: Project, doc: Document, bad: set[Path_], is_main: bool) -> None:
    data = doc.data if isinstance(doc.data, dict) else {}
    seen: dict[str, dict[str, Location]] = {"targets": {}, "voices": {}, "templates": {}}
    for section in seen:
        for name, value in _dict(data.get(section)).items():
            path = (section, name)
            if _has_bad(bad, path) or not isinstance(value, (dict, str)):
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
                project.voices[name] = _voice(name, cast(dict[str, object], value))
            else:
                rel = str(value)
                if _check_file(ctx, doc.where(path), rel, "template"):
                    project.templates[name] = rel
                    project.template_locations[name] = doc.where(path)
    for index, entry in enumerate(_list(data.get("lexicon"))):
        if _has_bad(bad, ("lexicon", index)) or not isinstance(entry, dict):
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


def _target(ctx: _Context, doc: Document, name: str, value: dict[str, object]) -> Target:
    provider: ProviderKind = "ice" if value.get("provider") == "ice" else "local"
    path = value.get("path")
    if isinstance(path, str):
        try:
            inside(ctx.root, path)
        except PathEscapeError as exc:
            ctx.add(doc.where(("targets", name, "path")), f"target path {exc}", "path-escape")
    limit = value.get("max_input_chars", DEFAULT_MAX_INPUT_CHARS)
    rate = value.get("rate_limit")
    return Target(
        name=name,
        provider=provider,
        path=path if isinstance(path, str) else None,
        region=_opt_str(value.get("region")),
        bucket=_opt_str(value.get("bucket")),
        prefix=str(value.get("prefix", "")),
        endpoint=_opt_str(value.get("endpoint")),
        rate_limit=float(rate) if isinstance(rate, (int, float)) else None,
        max_input_chars=int(limit) if isinstance(limit, int) else DEFAULT_MAX_INPUT_CHARS,
    )


def _voice(name: str, value: dict[str, object]) -> Voice:
    return Voice(
        name=name,
        voice=_opt_str(value.get("voice")),
        customized_voice=_opt_str(value.get("customized_voice")),
        volume=_int(value.get("volume"), 50),
        speech_rate=_int(value.get("speech_rate"), 0),
        pitch_rate=_int(value.get("pitch_rate"), 0),
    )


def _collect_entries(
    ctx: _Context,
    project: Project,
    doc: Document,
    bad: set[Path_],
    defaults: dict[str, object],
    main: Document,
) -> None:
    data = doc.data if isinstance(doc.data, dict) else {}
    for index, entry in enumerate(_list(data.get("items"))):
        path: Path_ = ("items", index)
        if _has_bad(bad, path) or not isinstance(entry, dict):
            continue
        locations = _field_locations(doc, path, entry, defaults, main)
        settings = _settings(ctx, project, entry, defaults, locations)
        if settings is None:
            continue
        source = _opt_str(entry.get("source"))
        if source is not None and not _check_file(ctx, locations["source"], source, "source"):
            continue
        project.items.append(
            ItemSpec(
                id=str(entry["id"]),
                settings=settings,
                location=doc.where(path),
                text=_opt_str(entry.get("text")),
                source=source,
                locations=locations,
            )
        )
    for index, entry in enumerate(_list(data.get("sources"))):
        path = ("sources", index)
        if _has_bad(bad, path) or not isinstance(entry, dict):
            continue
        locations = _field_locations(doc, path, entry, defaults, main)
        settings = _settings(ctx, project, entry, defaults, locations)
        if settings is None:
            continue
        pattern = str(entry["glob"])
        try:
            inside(ctx.root, _glob_base(pattern))
        except PathEscapeError as exc:
            ctx.add(locations["glob"], f"glob {exc}", "path-escape")
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


def _field_locations(
    doc: Document,
    path: Path_,
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
    ctx: _Context,
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
        ctx.add(
            locations["template"],
            f"unknown template {template!r}{suggest(template, project.templates)}",
            "unknown-reference",
        )
        ok = False
    voice = _reference(ctx, "voice", pick("voice", None), project.voices, locations["voice"])
    target = _reference(ctx, "target", pick("target", None), project.targets, locations["target"])
    title, description = _opt_str(entry.get("title")), _opt_str(entry.get("description"))
    for key, value, limit in (
        ("title", title, TITLE_BYTES),
        ("description", description, DESCRIPTION_BYTES),
    ):
        if value is not None and len(value.encode("utf-8")) > limit:
            ctx.add(
                locations[key],
                f"{key} is {len(value.encode('utf-8'))} bytes; ICE allows at most {limit} bytes",
                "limit",
            )
            ok = False
    user_data = _user_data(ctx, entry.get("user_data"), locations.get("user_data"))
    if voice is None or target is None or (user_data is False):
        return None
    if not ok:
        return None
    return Settings(
        template=template,
        voice=voice,
        target=target,
        format=cast(AudioFormat, pick("format", "mp3")),
        sample_rate=_int(pick("sample_rate", 16000), 16000),
        vars=_dict(entry.get("vars")),
        title=title,
        description=description,
        user_data=user_data if isinstance(user_data, str) else None,
    )


def _reference(
    ctx: _Context,
    kind: str,
    name: object,
    table: dict[str, object] | dict[str, Voice] | dict[str, Target],
    where: Location,
) -> str | None:
    if name is None:
        if len(table) == 1:
            return next(iter(table))
        hint = (
            f"define one under {kind}s:"
            if not table
            else f"set defaults.{kind} or the entry's {kind}"
        )
        ctx.add(where, f"no {kind} chosen: {hint}", "unknown-reference")
        return None
    if str(name) not in table:
        ctx.add(
            where, f"unknown {kind} {name!r}{suggest(str(name), list(table))}", "unknown-reference"
        )
        return None
    return str(name)


def _user_data(ctx: _Context, value: object, where: Location | None) -> str | bool | None:
    """UserData as compact JSON text; False when invalid (already reported)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            ctx.add(where or Location("?", 1, 1), "user_data must be a JSON object", "limit")
            return False
        value = parsed
    if not isinstance(value, dict):
        ctx.add(where or Location("?", 1, 1), "user_data must be a JSON object", "limit")
        return False
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode("utf-8")) > USER_DATA_BYTES:
        ctx.add(
            where or Location("?", 1, 1),
            f"user_data is {len(text.encode('utf-8'))} bytes as JSON; ICE allows at most "
            f"{USER_DATA_BYTES}",
            "limit",
        )
        return False
    return text


def _check_file(ctx: _Context, where: Location, relative: str, kind: str) -> bool:
    try:
        path = inside(ctx.root, relative)
    except PathEscapeError as exc:
        ctx.add(where, f"{kind} path {exc}", "path-escape")
        return False
    if not path.is_file():
        ctx.add(where, f"{kind} file not found: {relative}", "missing-file")
        return False
    return True


def _check_ids(ctx: _Context, project: Project, docs: list[Document]) -> None:
    """Report duplicate ids, even on entries with other errors; keep the first of each."""
    seen: dict[str, Location] = {}
    for doc in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        for section in ("items", "sources"):
            for index, entry in enumerate(_list(data.get(section))):
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    continue
                where = doc.where((section, index, "id"))
                if entry["id"] in seen:
                    first = seen[entry["id"]]
                    ctx.add(
                        where,
                        f"duplicate id {entry['id']!r} "
                        f"(first defined at {first.file}:{first.line})",
                        "duplicate-id",
                    )
                else:
                    seen[entry["id"]] = where
    firsts = set(seen.values())
    project.items = [s for s in project.items if s.locations.get("id") in firsts]
    project.sources = [s for s in project.sources if s.locations.get("id") in firsts]


def _has_bad(bad: set[Path_], prefix: Path_) -> bool:
    return any(path[: len(prefix)] == prefix for path in bad)


def _dict(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object, fallback: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else fallback
