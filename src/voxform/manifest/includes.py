"""Reading voxform.yaml and the files its `include:` globs name, each with positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from voxform.errors import Location, ManifestError, PathEscapeError, Problem
from voxform.manifest.checks import Findings, glob_base
from voxform.manifest.yamlpos import Document, ValueBudget, load_yaml_text
from voxform.paths import inside, relative_to_root
from voxform.reading import open_regular

MANIFEST = "voxform.yaml"
ROOT_ONLY = ("version", "name", "defaults", "include")

# No more than these is read, so a huge or endless file costs nothing.
MAX_FILE_BYTES: Final = 1_000_000
MAX_TOTAL_BYTES: Final = 4_000_000
MAX_FILES: Final = 1_000


@dataclass
class _Budget:
    """What the manifests read so far have left of the limits, and which files they are."""

    bytes_left: int = MAX_TOTAL_BYTES
    files_left: int = MAX_FILES
    values: ValueBudget = field(default_factory=ValueBudget)
    read: set[Path] = field(default_factory=set)


def read_manifests(ctx: Findings, manifest: str = MANIFEST) -> list[Document]:
    """The main manifest first, then every file its `include:` globs match, in order."""
    main_file = ctx.root / manifest
    if not main_file.is_file():
        raise ManifestError(
            [Problem(Location(manifest, 1, 1), f"no {manifest} in {ctx.root}", "missing-manifest")]
        )
    budget = _Budget()
    main = _read_document(ctx, main_file, budget)
    docs = [main]
    if isinstance(main.data, dict):
        if "version" not in main.data:
            ctx.add(main.where(()), "missing required key 'version' (use version: 1)", "schema")
        includes = main.data.get("include")
        for index, pattern in enumerate(includes if isinstance(includes, list) else []):
            if isinstance(pattern, str):
                docs.extend(_read_includes(ctx, main, index, pattern, main_file, budget))
    return docs


def _read_document(ctx: Findings, path: Path, budget: _Budget) -> Document:
    rel = relative_to_root(ctx.root, path)
    limit = min(MAX_FILE_BYTES, budget.bytes_left)
    try:
        with open_regular(path) as handle:
            data = handle.read(limit + 1)
    except OSError as exc:  # a FIFO or device in its place, a folder, no permission
        ctx.add(Location(rel, 1, 1), f"cannot read {rel}: {exc.strerror or exc}", "missing-file")
        return Document(rel, None)
    if len(data) > limit:
        size = max(path.stat().st_size, len(data))
        why = (
            f"a manifest file may hold at most {MAX_FILE_BYTES:,} (split it into files that "
            f"{MANIFEST} includes)"
            if size > MAX_FILE_BYTES
            else f"all manifest files together may hold at most {MAX_TOTAL_BYTES:,}"
        )
        ctx.add(Location(rel, 1, 1), f"the file is {size:,} bytes; {why}", "yaml-limit")
        return Document(rel, None)
    budget.bytes_left -= len(data)
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        ctx.add(Location(rel, 1, 1), f"not UTF-8 text: {exc.reason}", "encoding")
        return Document(rel, None)
    doc = load_yaml_text(text, rel, budget.values)
    ctx.problems.extend(doc.problems)
    if doc.data is not None and not isinstance(doc.data, dict):
        ctx.add(doc.where(()), "a manifest must be a mapping of keys", "schema")
        doc.data = None
    return doc


def _read_includes(
    ctx: Findings, main: Document, index: int, pattern: str, main_file: Path, budget: _Budget
) -> list[Document]:
    where = main.where(("include", index))
    try:
        inside(ctx.root, glob_base(pattern))
    except PathEscapeError as exc:
        ctx.add(where, f"include {exc}", "path-escape")
        return []
    docs = []
    try:
        matches = sorted(p for p in ctx.root.glob(pattern) if p.is_file())
    except (ValueError, IndexError, AttributeError, NotImplementedError, OSError) as exc:
        why = f": {exc}" if isinstance(exc, ValueError) else ""  # pathlib's others say nothing
        ctx.add(
            where,
            f"include {pattern!r} is not a glob of files{why}; write one such as "
            "'narrations/*.yaml'",
            "include",
        )
        return []
    if not matches:
        # A folder kept for manifests to come may be empty: said, not refused.
        ctx.add(where, f"include {pattern!r} matches no files", "missing-file", warning=True)
    for path in matches:
        resolved = path.resolve()
        if resolved == main_file.resolve() or resolved in budget.read:
            continue  # read already, by voxform.yaml or an earlier pattern
        try:
            inside(ctx.root, relative_to_root(ctx.root, path))
        except PathEscapeError as exc:
            ctx.add(where, f"include {exc}", "path-escape")
            continue
        if budget.files_left <= 0:
            ctx.add(
                where,
                f"include {pattern!r} matches more files than the {MAX_FILES:,} voxform reads",
                "yaml-limit",
            )
            break
        budget.files_left -= 1
        budget.read.add(resolved)
        doc = _read_document(ctx, path, budget)
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
