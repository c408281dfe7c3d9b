"""Reading text sources and expanding them into items, one per file, paragraph or sentence.

Chunk ids come from ids.py, which keeps them stable under edits and insertions.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from voxform.digest import digest
from voxform.errors import Location, PathEscapeError, Problem
from voxform.frozen import maker
from voxform.manifest.model import Project, SourceSpec
from voxform.paths import ID_MAX, InsideFolders, inside, relative_to_root, slug
from voxform.reading import FileTooLargeError, read_text
from voxform.render.chunking import MarkdownLimit, paragraphs, sentences
from voxform.render.ids import align
from voxform.render.model import Item

MAX_TEXT_BYTES = 10_000_000  # a text source: a long book is about 1 MB
MAX_FILES = 100_000  # files one source's glob may match
_item = maker(Item)  # Item of every field in order, without its __init__ (voxform/frozen.py)


class SourceMemo(Protocol):
    """Where earlier parses of source files are kept (a cache in .voxform/): `paragraphs`
    answers a file only when its text is one parsed before, else None."""

    def paragraphs(self, path: Path, markdown: bool) -> list[str] | None: ...

    def learn(self, path: Path, text: str, markdown: bool, paragraphs: list[str]) -> None: ...


class BlockMemo(Protocol):
    """Where the chunks of earlier expansions are kept, a block per file (a cache in
    .voxform/): `chunk_ids` answers a file's chunks' id keys and digests only when all that
    makes them (its text, the lockfile's ids under its prefix) gives the same, else None."""

    def chunk_ids(
        self, source: SourceSpec, path: Path, rel: str, prefix: str, known: Mapping[str, str]
    ) -> tuple[list[str], list[str]] | None: ...

    def made(self, path: Path, items: list[Item]) -> None:
        """The items made of the file at `path`, in order (after `chunk_ids` for it)."""
        ...


def expand(
    project: Project,
    known: Mapping[str, str],
    memo: SourceMemo | None = None,
    blocks: BlockMemo | None = None,
) -> tuple[list[Item], list[Problem]]:
    """Items of the project; `known` maps ids already in the lockfile to their chunk digests.
    With a memo, a file whose text it knows is neither read nor parsed here; with `blocks`,
    a file whose chunks they know has its chunks' ids and digests from them."""
    items: list[Item] = []
    problems: list[Problem] = []
    for spec in project.items:
        text_where = spec.locations.get("text") or spec.locations.get("source") or spec.location
        source_file = None
        if spec.source is not None:
            path = inside(project.root, spec.source)
            raw = _load(path, spec.source, text_where, problems, memo)
            if raw is None:
                continue
            paras = _paragraphs(raw, path, spec.source, problems, memo)
            if paras is None:
                continue
            text = "\n\n".join(paras)
            source_file = spec.source
        else:
            text = (spec.text or "").strip()
        if not text:
            problems.append(Problem(text_where, f"item {spec.id!r} has no text to speak", "empty"))
            continue
        items.append(
            _item(spec.id, text, spec.settings, spec.location, text_where, source_file, None, False)
        )
    by_file: dict[str, dict[str, str]] = {}  # the known ids of each file's prefix
    for item_id, chunk in known.items():
        by_file.setdefault(item_id.rpartition("/")[0], {})[item_id] = chunk
    for source in project.sources:
        items.extend(_expand_source(project, source, by_file, problems, memo, blocks))
    return items, problems


def _read(path: Path, name: str, where: Location, problems: list[Problem]) -> str | None:
    """A text source's text; None, with a problem naming it, when it cannot be one."""
    try:
        return read_text(path, MAX_TEXT_BYTES)
    except UnicodeDecodeError as exc:
        problems.append(Problem(where, f"{name}: not UTF-8 ({exc.reason})", "encoding"))
    except FileTooLargeError:
        problems.append(
            Problem(
                where,
                f"{name} is more than {MAX_TEXT_BYTES:,} bytes, more than a text source may "
                "hold (split it into several files)",
                "limit",
            )
        )
    except OSError as exc:  # a FIFO or device in its place, a folder, no permission
        problems.append(Problem(where, f"{name}: {exc.strerror or exc}", "missing-file"))
    return None


def _load(
    path: Path, name: str, where: Location, problems: list[Problem], memo: SourceMemo | None
) -> str | list[str] | None:
    """The file's paragraphs when the memo knows its text, else its text (see `_read`)."""
    if memo is not None:
        known = memo.paragraphs(path, _markdown(path))
        if known is not None:
            return known
    return _read(path, name, where, problems)


def _expand_source(
    project: Project,
    source: SourceSpec,
    by_file: Mapping[str, Mapping[str, str]],
    problems: list[Problem],
    memo: SourceMemo | None,
    blocks: BlockMemo | None = None,
) -> list[Item]:
    where = source.locations.get("glob", source.location)
    try:
        files = sorted(p for p in project.root.glob(source.glob) if p.is_file())
    except (ValueError, IndexError, OSError) as exc:  # pathlib cannot glob '.', 'a**b', NUL
        reason = "it names no files" if isinstance(exc, IndexError) else str(exc)
        problems.append(Problem(where, f"glob {source.glob!r} cannot be used: {reason}", "glob"))
        return []
    if len(files) > MAX_FILES:
        problems.append(
            Problem(
                where,
                f"glob {source.glob!r} matches {len(files):,} files; a source reads at most "
                f"{MAX_FILES:,} (split it into several sources)",
                "limit",
            )
        )
        return []
    if not files:
        problems.append(Problem(where, f"glob {source.glob!r} matches no files", "missing-file"))
        return []
    items: list[Item] = []
    base = _glob_base_dir(project.root, source.glob)
    stems: dict[str, str] = {}  # id prefix -> the file that has it
    real_root = project.root.resolve()  # once, not twice for each file
    folders = InsideFolders(project.root, real_root)  # each folder resolved once
    for path in files:
        rel = relative_to_root(project.root, path, real_root=real_root)
        try:
            folders.check(rel)
        except PathEscapeError as exc:
            problems.append(Problem(where, f"{rel}: {exc}", "path-escape"))
            continue
        raw = _load(path, rel, where, problems, memo)
        if raw is None:
            continue
        stem = slug(path.relative_to(base).with_suffix("").as_posix())
        prefix = f"{source.id}/{stem}"
        if not _own_prefix(prefix, rel, stems, where, problems):
            continue
        file_where = Location(rel, 1, 1)
        paras = _paragraphs(raw, path, rel, problems, memo)
        if paras is None:
            continue
        if source.split == "none":
            text = "\n\n".join(paras)
            if text:
                items.append(
                    _item(
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
        chunks = [s for p in paras for s in sentences(p)] if source.split == "sentence" else paras
        # A chunk's id is its file's prefix, a slash and a key without one (ids.py): the
        # ids known under that prefix are all align reads, not the whole lockfile per file.
        known_here = by_file.get(prefix, {})
        kept = None
        if blocks is not None:
            kept = blocks.chunk_ids(source, path, rel, prefix, known_here)
        if kept is not None and len(kept[0]) == len(chunks):
            keys, digests = kept
        else:
            digests = [digest(c) for c in chunks]
            keys = align(prefix, digests, known_here)
        made = [
            _item(
                f"{prefix}/{key}",
                chunk,
                source.settings,
                source.location,
                file_where,
                rel,
                chunk_digest,
                True,
            )
            for key, chunk, chunk_digest in zip(keys, chunks, digests, strict=True)
        ]
        items.extend(made)
        if blocks is not None:
            blocks.made(path, made)
    return items


def _own_prefix(
    prefix: str, rel: str, stems: dict[str, str], where: Location, problems: list[Problem]
) -> bool:
    """Whether the file `rel` alone makes ids starting `prefix` (with room for chunk keys);
    a problem, naming both files or the length, when it does not."""
    if prefix in stems:
        problems.append(
            Problem(
                where,
                f"{stems[prefix]} and {rel} both make the ids {prefix}/...; rename one of them",
                "duplicate-id",
            )
        )
        return False
    stems[prefix] = rel
    if len(prefix) + len("/p123.45") > ID_MAX:
        problems.append(
            Problem(
                where,
                f"the ids of {rel} ({prefix}/...) would pass the {ID_MAX}-character limit of an "
                "id; shorten the source id",
                "limit",
            )
        )
        return False
    return True


def _paragraphs(
    raw: str | list[str], path: Path, name: str, problems: list[Problem], memo: SourceMemo | None
) -> list[str] | None:
    """The file's paragraphs (`raw` when the memo had them); None, with a problem at the
    line, when its Markdown is past what a source may hold."""
    if isinstance(raw, list):
        return raw
    markdown = _markdown(path)
    try:
        found = paragraphs(raw, markdown=markdown)
    except MarkdownLimit as exc:
        problems.append(Problem(Location(name, exc.line, 1), str(exc), "limit"))
        return None
    if memo is not None:
        memo.learn(path, raw, markdown, found)
    return found


def _markdown(path: Path) -> bool:
    return path.suffix.lower() == ".md"


def _glob_base_dir(root: Path, pattern: str) -> Path:
    parts = []
    for part in pattern.split("/")[:-1]:
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return root.resolve().joinpath(*parts)
