"""Reading voxform.yaml and the files its `include:` globs name, each with positions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from voxform.errors import Location, ManifestError, PathEscapeError, Problem
from voxform.manifest.checks import Findings, glob_base
from voxform.manifest.yamlpos import Document, ValueBudget, load_yaml_text
from voxform.paths import inside, relative_to_root

MANIFEST = "voxform.yaml"
ROOT_ONLY = ("version", "name", "defaults", "include")

# Sizes are checked before a file is read, so a huge or endless file costs nothing.
MAX_FILE_BYTES: Final = 1_000_000
MAX_TOTAL_BYTES: Final = 4_000_000


@dataclass
class _Budget:
    """What the manifests read so far have left of the byte and value limits."""

    bytes_left: int = MAX_TOTAL_BYTES
    values: ValueBudget = field(default_factory=ValueBudget)


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
    size = path.stat().st_size
    if size > MAX_FILE_BYTES or size > budget.bytes_left:
        limit = (
            f"a manifest file may hold at most {MAX_FILE_BYTES:,} (split it into files that "
            f"{MANIFEST} includes)"
            if size > MAX_FILE_BYTES
            else f"all manifest files together may hold at most {MAX_TOTAL_BYTES:,}"
        )
        ctx.add(Location(rel, 1, 1), f"the file is {size:,} bytes; {limit}", "yaml-limit")
        return Document(rel, None)
    budget.bytes_left -= size
    try:
        text = path.read_text("utf-8")
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
