"""Load voxform.yaml and its includes into a Project, collecting every problem at once.

Reading (includes.py), the schema (schema.py), building the model (build.py) and the
checks across entries (checks.py) each have a room; this module runs them in order.
"""

from __future__ import annotations

from pathlib import Path

from voxform.errors import Problem
from voxform.manifest.build import collect_entries, merge_sections
from voxform.manifest.checks import Findings, check_ids
from voxform.manifest.includes import MANIFEST, read_manifests
from voxform.manifest.model import Project
from voxform.manifest.schema_seen import SchemaSeen
from voxform.manifest.values import as_dict, has_bad
from voxform.manifest.yamlpos import KeyPath


def load_manifests(
    root: Path, manifest: str = MANIFEST, *, seen: SchemaSeen | None = None
) -> tuple[Project, list[Problem]]:
    """Read the project at `root`; the Project holds every entry that could be understood.
    `seen`: the documents the schema found valid before, not checked again (and those it
    finds valid now, noted there)."""
    root = root.resolve()
    ctx = Findings(root)
    docs = read_manifests(ctx, manifest)
    main = docs[0]
    data = as_dict(main.data)
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
    bad_by_doc: dict[str, set[KeyPath]] = {}
    for doc in docs:
        if doc.data is None:
            bad_by_doc[doc.file] = set()
            continue
        if seen is not None and seen.known(doc.data):
            bad_by_doc[doc.file] = set()
            continue
        from voxform.manifest.schema import schema_problems  # jsonschema, when it is needed

        problems, bad = schema_problems(doc)
        ctx.problems.extend(problems)
        bad_by_doc[doc.file] = bad
        if seen is not None and not problems and not bad:
            seen.note(doc.data)
    if seen is not None:
        seen.save()
    defaults = (
        as_dict(data.get("defaults")) if not has_bad(bad_by_doc[main.file], ("defaults",)) else {}
    )
    for doc in docs:
        merge_sections(ctx, project, doc, bad_by_doc[doc.file])
    for doc in docs:
        collect_entries(ctx, project, doc, bad_by_doc[doc.file], defaults, main)
    check_ids(ctx, project, docs)
    return project, ctx.problems
