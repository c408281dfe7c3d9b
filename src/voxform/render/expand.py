"""Expanding sources into items whose ids survive edits and insertions."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from voxform.errors import Location, Problem
from voxform.manifest.model import Project, SourceSpec
from voxform.paths import inside, relative_to_root
from voxform.render.chunking import paragraphs, sentences
from voxform.render.model import Item

_PART = re.compile(r"^p(\d+(?:\.\d+)?)(?:-\d+)?$")
_SLUG = re.compile(r"[^a-z0-9._-]+")


def digest(text: str) -> str:
    """The `sha256:` digest used throughout the lockfile."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_text(path: Path) -> str:
    """Source text, normalized to `\\n` line ends."""
    return path.read_text("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def expand(project: Project, known: Mapping[str, str]) -> tuple[list[Item], list[Problem]]:
    """Items of the project; `known` maps ids already in the lockfile to their chunk digests."""
    items: list[Item] = []
    problems: list[Problem] = []
    for spec in project.items:
        text_where = spec.locations.get("text") or spec.locations.get("source") or spec.location
        source_file = None
        if spec.source is not None:
            path = inside(project.root, spec.source)
            try:
                raw = read_text(path)
            except UnicodeDecodeError as exc:
                problems.append(
                    Problem(text_where, f"{spec.source}: not UTF-8 ({exc.reason})", "encoding")
                )
                continue
            text = "\n\n".join(paragraphs(raw, markdown=path.suffix.lower() == ".md"))
            source_file = spec.source
        else:
            text = (spec.text or "").strip()
        if not text:
            problems.append(Problem(text_where, f"item {spec.id!r} has no text to speak", "empty"))
            continue
        items.append(Item(spec.id, text, spec.settings, spec.location, text_where, source_file))
    for source in project.sources:
        items.extend(_expand_source(project, source, known, problems))
    return items, problems


def _expand_source(
    project: Project, source: SourceSpec, known: Mapping[str, str], problems: list[Problem]
) -> list[Item]:
    where = source.locations.get("glob", source.location)
    files = sorted(p for p in project.root.glob(source.glob) if p.is_file())
    if not files:
        problems.append(Problem(where, f"glob {source.glob!r} matches no files", "missing-file"))
        return []
    items: list[Item] = []
    base = _glob_base_dir(project.root, source.glob)
    for path in files:
        rel = relative_to_root(project.root, path)
        try:
            inside(project.root, rel)
            raw = read_text(path)
        except ValueError as exc:
            problems.append(Problem(where, f"{rel}: {exc}", "path-escape"))
            continue
        stem = _SLUG.sub("-", path.relative_to(base).with_suffix("").as_posix().lower()).strip("-")
        prefix = f"{source.id}/{stem}"
        file_where = Location(rel, 1, 1)
        if source.split == "none":
            text = "\n\n".join(paragraphs(raw, markdown=path.suffix.lower() == ".md"))
            if text:
                items.append(
                    Item(
                        prefix,
                        text,
                        source.settings,
                        source.location,
                        file_where,
                        rel,
                        digest(text),
                        True,
                    )
                )
            continue
        chunks = _chunks(raw, path.suffix.lower() == ".md", source.split)
        keys = align(prefix, [digest(c) for c in chunks], known)
        for key, chunk in zip(keys, chunks, strict=True):
            items.append(
                Item(
                    f"{prefix}/{key}",
                    chunk,
                    source.settings,
                    source.location,
                    file_where,
                    rel,
                    digest(chunk),
                    True,
                )
            )
    return items


def _chunks(raw: str, markdown: bool, split: str) -> list[str]:
    paras = paragraphs(raw, markdown=markdown)
    if split == "sentence":
        return [s for p in paras for s in sentences(p)]
    return paras


def _glob_base_dir(root: Path, pattern: str) -> Path:
    parts = []
    for part in pattern.split("/")[:-1]:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return root.resolve().joinpath(*parts)


def align(prefix: str, digests: list[str], known: Mapping[str, str]) -> list[str]:
    """Chunk keys (`p1`, `p2.5`, ...) for a file, reusing the keys the lockfile knows.

    Unchanged chunks keep their key; a chunk edited in place inherits the key of the one it
    replaces; an inserted chunk gets a key between its neighbours, so no other key moves.
    """
    old: dict[Decimal, str] = {}
    for item_id, chunk_digest in known.items():
        if not item_id.startswith(prefix + "/"):
            continue
        match = _PART.match(item_id[len(prefix) + 1 :])
        if match:
            old.setdefault(Decimal(match.group(1)), chunk_digest)
    if not old:
        return [f"p{i}" for i in range(1, len(digests) + 1)]
    old_keys = sorted(old)
    old_digests = [old[k] for k in old_keys]
    result: list[Decimal | None] = [None] * len(digests)
    matcher = difflib.SequenceMatcher(a=old_digests, b=digests, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or tag == "replace":
            for offset in range(min(i2 - i1, j2 - j1)):
                result[j1 + offset] = old_keys[i1 + offset]
    used = set(old_keys)
    for index, key in enumerate(result):
        if key is not None:
            continue
        low = next((result[i] for i in range(index - 1, -1, -1) if result[i] is not None), None)
        high = next(
            (result[i] for i in range(index + 1, len(result)) if result[i] is not None), None
        )
        new = _between(low, high, used)
        result[index] = new
        used.add(new)
    return [f"p{_format(k)}" for k in result if k is not None]


def _between(low: Decimal | None, high: Decimal | None, used: set[Decimal]) -> Decimal:
    if high is None:
        candidate = (
            low.to_integral_value(rounding="ROUND_FLOOR") if low is not None else Decimal(0)
        ) + 1
        while candidate in used:
            candidate += 1
        return candidate
    floor = low if low is not None else Decimal(0)
    step = Decimal(1)
    while True:
        step /= 10
        candidate = floor + step
        # the coarsest decimal strictly between the neighbours that is not taken
        while candidate < high:
            if candidate > floor and candidate not in used:
                return candidate
            candidate += step


def _format(key: Decimal) -> str:
    text = format(key.normalize(), "f")
    return text
