"""A project opened for a command: manifests -> items -> requests, beside its lockfile."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from voxform.aside import MIN_ITEMS, aside, wait
from voxform.deletions import with_deletions
from voxform.errors import (
    Location,
    ManifestError,
    Problem,
    VoxformError,
    did_you_mean,
    one_per_cause,
)
from voxform.manifest.checks import check_output_folders
from voxform.manifest.loader import load_manifests
from voxform.manifest.model import Project, Settings
from voxform.manifest.owners import output_owners
from voxform.manifest.schema_seen import SCHEMA_SEEN, SchemaSeen
from voxform.plan.fingerprint import prints_of
from voxform.plan.plan import Plan, TargetFacts, make_plan, selected
from voxform.plan.saved import SavedPlan, inputs_digest, lockfile_digest
from voxform.providers.registry import provider_for
from voxform.render.assemble import key_prefix
from voxform.render.items import render_items
from voxform.render.model import Prints, RenderedItem
from voxform.render.sources import MAX_TEXT_BYTES, expand
from voxform.state.block_cache import BLOCK_CACHE, BlockCache
from voxform.state.journal import JOURNAL_DIR, journal_path, read_state
from voxform.state.lockfile import LOCKFILE, LockState
from voxform.state.outputs import CACHE_NAME, Output, StatCache, drift
from voxform.state.render_cache import RENDER_CACHE, RenderCache, project_identity
from voxform.state.source_cache import SOURCE_CACHE, SourceCache


@dataclass
class LoadedProject:
    """A project read from disk with its lockfile, rendered and checked."""

    project: Project
    lock_path: Path
    lock: LockState  # with a leftover journal of a crashed apply replayed over it
    rendered: list[RenderedItem]
    problems: list[Problem] = field(default_factory=list)
    journal_path: Path = Path()
    intent_times: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def require_valid(self) -> None:
        """Raise ManifestError with every error (and the warnings) when there is one."""
        if self.errors:
            raise ManifestError(self.problems)

    def targets(self) -> dict[str, TargetFacts]:
        """Each target's provider kind, engine version and traits, as the plan needs them."""
        facts = {}
        for name, target in self.project.targets.items():
            provider = provider_for(target)
            facts[name] = TargetFacts(
                target.provider,
                provider.engine_version(),
                provider.billed,
                provider.durable_jobs,
                None if provider.files_in_project else target.bucket,
                target.region,
            )
        return facts

    def plan(
        self,
        *,
        select: Sequence[str] = (),
        replace: Sequence[str] = (),
        held: Mapping[str, Output | None] | None = None,
        refresh: bool = True,
        drift: Mapping[str, str] | None = None,
    ) -> Plan:
        """What apply would do; ManifestError when the project is not valid, VoxformError
        when a --select or --replace names nothing (a typo must not read as "no changes").
        `held`: what the objects the lockfile names hold now, when the buckets were read;
        `refresh` off (--no-refresh): the project's output files are not checked either, and
        the plan is made from the lockfile alone (a CI checkout has no build output).
        `drift`: `self.drift()` if the caller has it already (else it is worked out here)."""
        self.require_valid()
        ids = [r.item.id for r in self.rendered] if select or replace else []
        known = set(ids) | set(self.lock.items) if select else set()
        for pattern in select:
            if not any(selected(i, [pattern]) for i in known):
                hint = did_you_mean(pattern, ids)
                raise VoxformError(f"--select {pattern!r} matches no item{hint}")
        for item_id in replace:
            if item_id not in ids:
                hint = " (--replace takes item ids, not globs)" if set(item_id) & set("*?[") else ""
                raise VoxformError(
                    f"--replace {item_id!r}: no such item{hint or did_you_mean(item_id, ids)}"
                )
        with collector_paused():
            plan = make_plan(
                self.rendered,
                self.lock,
                self.targets(),
                select=select,
                replace=replace,
                drift=({} if not refresh else self.drift() if drift is None else drift),
                held=held or {},
            )
            cache = self.journal_path.parent / CACHE_NAME
            targets = self.project.targets
            return with_deletions(
                plan, self.rendered, self.lock, targets, self.project.root, cache, held
            )

    def saved(
        self, plan: Plan, select: Sequence[str], replace: Sequence[str], *, refresh: bool = True
    ) -> SavedPlan:
        """What `plan --out` records of `plan` and what it was made against (`refresh`:
        whether the buckets were read for it)."""
        fingerprints = {c.id: c.fingerprint for c in plan.changes if c.fingerprint}
        return SavedPlan(
            inputs=inputs_digest(self.rendered, fingerprints),
            lockfile=lockfile_digest(self.lock.to_bytes()),
            select=tuple(select),
            replace=tuple(replace),
            changes=tuple(
                (c.id, c.action, c.fingerprint, c.source)
                for c in plan.changes
                if c.action != "unchanged"
            ),
            refresh=refresh,
        )

    def drift(self) -> dict[str, str]:
        """Finished items whose output files in the project are missing or not the bytes the
        lockfile records (another branch checked out, a file overwritten or deleted), with
        the reason. An entry from before outputs were recorded is checked for its audio."""
        in_project = {
            name
            for name, target in self.project.targets.items()
            if provider_for(target).files_in_project
        }
        recorded: list[tuple[str, Mapping[str, Output]]] = []
        legacy: dict[str, str] = {}
        for item in self.rendered:
            entry = self.lock.items.get(item.id)
            if entry is None or entry.state != "finished":
                continue
            if entry.outputs is not None:
                recorded.append((item.id, entry.outputs))  # drift looks at its files
            elif (
                entry.url
                and item.item.settings.target in in_project
                and not (self.project.root / entry.url).is_file()
            ):
                legacy[item.id] = f"output file missing: {entry.url}"
        cache_path = self.journal_path.parent / CACHE_NAME if recorded else None
        cache = StatCache(cache_path, root=self.project.root)
        return {**legacy, **drift(self.project.root, recorded, cache)}


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused (and started again only if it was running): a
    load or a plan makes objects per item, all of them kept, and the collector would walk
    them again and again as they are made (half a second at 100,000 items) to free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_project(
    directory: Path,
    lockfile: Path | None = None,
    *,
    caches_aside: bool = False,
    schema_seen: bool = False,
) -> LoadedProject:
    """Load, expand and render everything; problems are collected, not raised. With
    `caches_aside`, the caches are written beside the rest of the command (aside.py: the
    caller waits for them); with `schema_seen`, manifests the schema found valid before
    (manifest/schema_seen.py) are not checked by it again."""
    wait()  # a load before in this process has written its caches
    root = directory.resolve()
    seen = SchemaSeen(root / JOURNAL_DIR / SCHEMA_SEEN, root) if schema_seen else None
    project, problems = load_manifests(directory, seen=seen)
    lock_path = lockfile if lockfile is not None else project.root / LOCKFILE
    journal = journal_path(project.root, lock_path)
    replayed = read_state(lock_path, journal)
    lock = replayed.state
    known = lock.chunk_digests()
    # The caches beside the journal: only what changed since the last command is read,
    # parsed and rendered again (state/source_cache.py, state/render_cache.py).
    state = journal.parent
    identity = project_identity(project)
    texts = SourceCache(state / SOURCE_CACHE, project.root, identity=identity, limit=MAX_TEXT_BYTES)
    printer = _Printer(project)
    memo = RenderCache(state / RENDER_CACHE, project, known, identity=identity, printer=printer)
    blocks = BlockCache(
        state / BLOCK_CACHE, project.root, identity=identity, texts=texts, renders=memo
    )
    items, expand_problems = expand(project, known, texts, blocks)
    blocks.expanded()
    printer.engines()  # worked out once, before any worker is forked
    rendered, render_problems = render_items(project, items, known, memo, printer.prints)
    if memo.includes is not None:
        memo.includes.save()  # what templates parsed now include: small, written here
    if caches_aside and len(items) >= MIN_ITEMS and _large_writes(memo):
        # The render cache's write, the longest by far, apart from the others' (each cache
        # is checked as it is read: one written without the other is only a slower plan).
        # None forked for caches with nothing to write (a second plan: the fork and the
        # pages it makes this process copy cost more than the rest of the plan's file work).
        writes = [memo.save] if memo.unsaved() else []
        if texts.unsaved() or blocks.unsaved():
            writes.append(lambda: _save(texts, blocks))
        aside(*writes, apart=True)
    else:
        texts.save()
        memo.save()
        blocks.save()
    problems = one_per_cause(
        [
            *problems,
            *expand_problems,
            *render_problems,
            *_duplicate_ids(rendered),
            *output_owners(project.root, project.targets, _subtitle_dirs(project), items),
            *_output_folders(project, rendered),
        ]
    )
    problems.sort(key=lambda p: (p.location.file, p.location.line, p.location.column))
    return LoadedProject(
        project, lock_path, lock, rendered, problems, journal, replayed.intent_times
    )


def _large_writes(memo: RenderCache) -> bool:
    """Whether the caches' writes are worth a fork: when many results are new (a cold plan,
    a template edited), the render cache's write takes seconds. Else (an edit, a checkout)
    they take about what forked writers cost this process in the pages it writes to while
    they live (0.1-0.3 s at 100,000 items), and are done here."""
    return len(memo.results) >= MIN_ITEMS


def _save(texts: SourceCache, blocks: BlockCache) -> None:
    texts.save()
    blocks.save()


class _Printer:
    """An item's fingerprints as the plan works them out, for the render cache to keep. Not
    for a target whose files are in the project (the local engine): its version is found by
    loading the engine, which `validate` must not wait for."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._facts: dict[str, tuple[str, str | None] | None] = {}

    def engine(self, target: str) -> tuple[str, str | None] | None:
        if target not in self._facts:
            found = self.project.targets.get(target)
            provider = provider_for(found) if found is not None else None
            self._facts[target] = (
                None
                if found is None or provider is None or provider.files_in_project
                else (found.provider, provider.engine_version())
            )
        return self._facts[target]

    def engines(self) -> None:
        """Work out every target's facts now (a forked worker then inherits them)."""
        for target in self.project.targets:
            self.engine(target)

    def prints(self, rendered: RenderedItem) -> Prints | None:
        facts = self.engine(rendered.item.settings.target)
        if facts is None:
            return None
        kind, engine = facts
        known = rendered.prints
        if known is not None and known[0] == kind and known[1] == engine:
            return known  # worked out where it was rendered
        return (kind, engine, *prints_of(rendered, kind, engine))


def _output_folders(project: Project, rendered: list[RenderedItem]) -> list[Problem]:
    """Every folder an item's files go into (its subtitles, and beside them a local
    target's audio) is a real folder or none yet: else nothing of it could be kept, and a
    paid job would be lost to a write refused after it."""
    paths = [t.path for t in project.targets.values() if t.path is not None]
    return check_output_folders(project.root, _places(project, rendered), reported=paths)


def _places(project: Project, rendered: list[RenderedItem]) -> Iterator[tuple[str, Location, str]]:
    """The folder of each item's object key below its target's subtitle folder, with its
    place and id. The key as its request has it, without making the request of a cached
    item for it (state/render_records.py); its head worked out once per settings object.
    An item in the folder of the item before it is left out (check_output_folders looks at
    a folder once, at its first item)."""
    bases = _subtitle_dirs(project)
    heads: dict[int, tuple[Settings, str | None]] = {}  # id(settings) -> it, its keys' head
    last: tuple[str | None, str] = (None, "")  # the item before's head and id up to its last /
    for r in rendered:
        item = r.item
        settings = item.settings
        found = heads.get(id(settings))
        if found is None or found[0] is not settings:
            base = bases.get(settings.target)
            head = None if base is None else f"{base}/{key_prefix(project, settings)}"
            found = heads[id(settings)] = (settings, head)
        head = found[1]
        if head is None:
            continue
        item_id = item.id
        folder = last[1]
        if head is last[0] and item_id.startswith(folder) and item_id.find("/", len(folder)) < 0:
            continue  # in the folder of the item before (a file's items): looked at once
        last = (head, item_id[: item_id.rfind("/") + 1])
        yield f"{head}{item_id}".rpartition("/")[0], item.location, item_id


def _subtitle_dirs(project: Project) -> dict[str, str]:
    """Each target's folder for subtitles in the project (a local target's audio too)."""
    return {n: provider_for(t).subtitle_dir(t) for n, t in project.targets.items()}


def _duplicate_ids(rendered: list[RenderedItem]) -> list[Problem]:
    """Expanded ids can collide with explicit ones; each id names one audio object."""
    ids = [r.item.id for r in rendered]
    if len(set(ids)) == len(ids):
        return []  # none does (the usual case, told without an entry per item)
    seen: dict[str, RenderedItem] = {}
    problems = []
    for item in rendered:
        if item.id in seen:
            problems.append(
                Problem(
                    item.item.location,
                    f"duplicate id {item.id!r} (also produced by the entry at "
                    f"{seen[item.id].item.location})",
                    "duplicate-id",
                )
            )
        else:
            seen[item.id] = item
    return problems
