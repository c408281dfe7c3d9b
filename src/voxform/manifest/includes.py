"""Reading voxform.yaml and the files its `include:` globs name, each with positions."""

from __future__ import annotations

from pathlib import Path

from voxform.errors import Location, ManifestError, PathEscapeError, Problem
from voxform.manifest.checks import Findings, glob_base
from voxform.manifest.yamlpos import Document, load_yaml_text
from voxform.paths import inside, relative_to_root

MANIFEST = "voxform.yaml"
ROOT_ONLY = ("version", "name", "defaults", "include")


def read_manifests(ctx: Findings, manifest: str = MANIFEST) -> list[Document]:
    """The main manifest first, then every file its `include:` globs match, in order."""
    main_file = ctx.root / manifest
    if not main_file.is_file():
        raise ManifestError(
            [Problem(Location(manifest, 1, 1), f"no {manifest} in {ctx.root}", "missing-manifest")]
        )
    main = _read_document(ctx, main_file)
    docs = [main]
    if isinstance(main.data, dict):
        if "version" not in main.data:
            ctx.add(main.where(()), "missing required key 'version' (use version: 1)", "schema")
        includes = main.data.get("include")
        for index, pattern in enumerate(includes if isinstance(includes, list) else []):
            if isinstance(pattern, str):
                docs.extend(_read_includes(ctx, main, index, pattern, main_file))
    return docs


def _read_document(ctx: Findings, path: Path) -> Document:
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


def _read_includes(
    ctx: Findings, main: Document, index: int, pattern: str, main_file: Path
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
        doc = _read_document(ctx, path)
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


