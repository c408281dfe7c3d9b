"""Checks that read the disk or span entries: paths inside the root, files present, ids
unique, and ICE's limits on metadata. Problems are collected, never raised."""

from __future__ import annotations

import json
import os
import posixpath
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from voxform.endpoints import cleartext_host
from voxform.errors import Location, PathEscapeError, Problem
from voxform.files import UnsafeFileError, check_directory
from voxform.ice.limits import DESCRIPTION_BYTES, TITLE_BYTES, USER_DATA_BYTES
from voxform.ice.wire import TOKEN_KEY, TOKEN_ROOM, compact_json
from voxform.manifest.model import Project
from voxform.manifest.values import as_list
from voxform.manifest.yamlpos import Document
from voxform.paths import id_problem, inside

OUTPUT_DIR = "target path"  # the kind of path check_inside checks as apply's destination
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass
class Findings:
    """The project root and every problem found so far."""

    root: Path
    problems: list[Problem] = field(default_factory=list)

    def add(self, where: Location, message: str, rule: str, *, warning: bool = False) -> None:
        """Record one problem (an error, or with `warning` one that lets the command go on)."""
        self.problems.append(
            Problem(where, message, rule, severity="warning" if warning else "error")
        )


def glob_base(pattern: str) -> str:
    """The part of a glob before its first wildcard, for the inside-the-root check."""
    parts = []
    for part in pattern.split("/"):
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    return "/".join(parts) or "."


def check_inside(ctx: Findings, where: Location, relative: str, kind: str) -> bool:
    """Whether `relative` stays inside the project root; a problem when it does not. A
    target path is where apply writes, so no directory on its way may be a symlink at all."""
    normal = posixpath.normpath(relative)
    try:
        inside(ctx.root, relative)
        if kind == OUTPUT_DIR:
            check_directory(ctx.root, normal)
    except PathEscapeError as exc:
        ctx.add(where, f"{kind} {exc}", "path-escape")
        return False
    except UnsafeFileError as exc:  # `build/audio is a symlink` or `build/audio: build is ...`
        named = str(exc).startswith(f"{normal} ")
        ctx.add(where, f"{kind} {exc}" if named else f"{kind} {normal}: {exc}", "path-escape")
        return False
    return True


def check_file(ctx: Findings, where: Location, relative: str, kind: str) -> bool:
    try:
        path = inside(ctx.root, relative)
    except PathEscapeError as exc:
        ctx.add(where, f"{kind} path {exc}", "path-escape")
        return False
    if not path.is_file():
        ctx.add(where, f"{kind} file not found: {relative}", "missing-file")
        return False
    return True


def check_metadata(
    ctx: Findings, key: str, value: str | None, locations: dict[str, Location]
) -> bool:
    """Title and Description within ICE's byte limits; False (and a problem) when over."""
    limit = {"title": TITLE_BYTES, "description": DESCRIPTION_BYTES}[key]
    if value is not None and len(value.encode("utf-8")) > limit:
        ctx.add(
            locations[key],
            f"{key} is {len(value.encode('utf-8'))} bytes; ICE allows at most {limit} bytes",
            "limit",
        )
        return False
    return True


def check_prefix(ctx: Findings, where: Location, prefix: str) -> bool:
    """An OSS object key prefix: no empty, `.` or `..` segment, no leading slash, no control
    characters or backslashes (it also names the target's subtitle folder)."""
    segments = prefix.split("/")
    if prefix.endswith("/"):
        segments = segments[:-1]
    if prefix and (_CONTROL.search(prefix) or any(s in ("", ".", "..") for s in segments)):
        ctx.add(
            where,
            f"prefix {prefix!r} is not a valid object key prefix: no empty, '.' or '..' "
            "segments, no leading '/', no control characters or backslashes",
            "path-escape",
        )
        return False
    return True


def check_endpoint(
    ctx: Findings, name: str, endpoint: str | None, where: Location, insecure: Location | None
) -> bool:
    """An endpoint that would send the access key in clear (plain http to a host other than
    this machine) is an error, unless the target says `insecure: true` (`insecure` is where
    it says so): that is a warning, with or without such an endpoint, so plan always says
    it (VOXFORM_ICE_ENDPOINT may be plain http too)."""
    host = cleartext_host(endpoint) if endpoint is not None else None
    if insecure is not None:
        told = (
            f"its access key id, STS token and signed requests go to {host} unencrypted"
            if host
            else "a plain-http endpoint (VOXFORM_ICE_ENDPOINT too) would get its access key "
            "id, STS token and signed requests unencrypted"
        )
        ctx.add(
            insecure,
            f"target {name!r} has insecure: true: {told}",
            "insecure-endpoint",
            warning=True,
        )
        return True
    if host is not None:
        ctx.add(
            where,
            f"endpoint of target {name!r} is plain http to {host}, which is not this machine: "
            "the access key id, STS token and signed requests would travel unencrypted; use "
            "https, or set insecure: true on the target to accept that",
            "insecure-endpoint",
        )
        return False
    return True


def check_user_data(ctx: Findings, value: object, where: Location | None) -> str | bool | None:
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
    if TOKEN_KEY in value:
        ctx.add(
            where or Location("?", 1, 1),
            f"user_data key {TOKEN_KEY!r} is voxform's own (it carries the submission token)",
            "limit",
        )
        return False
    text = compact_json(value)
    room = USER_DATA_BYTES - TOKEN_ROOM
    if len(text.encode("utf-8")) > room:
        ctx.add(
            where or Location("?", 1, 1),
            f"user_data is {len(text.encode('utf-8'))} bytes as JSON; ICE allows at most "
            f"{USER_DATA_BYTES}, of which voxform keeps {TOKEN_ROOM} for its submission token",
            "limit",
        )
        return False
    return text


def check_ids(ctx: Findings, project: Project, docs: list[Document]) -> None:
    """Report duplicate ids, even on entries with other errors; keep the first of each."""
    seen: dict[str, Location] = {}
    for doc in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        for section in ("items", "sources"):
            for index, entry in enumerate(as_list(data.get(section))):
                if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                    continue
                where = doc.where((section, index, "id"))
                problem = id_problem(entry["id"])  # as the schema says it, where it sees it
                if problem is not None:
                    ctx.add(where, problem, "schema")
                    continue
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


def check_output_folders(
    root: Path, places: Iterable[tuple[str, Location, str]], reported: Iterable[str] = ()
) -> list[Problem]:
    """The folders items write into (`places`: each a project-relative folder, with the
    place and id of an item writing there) and every folder on their way: a symlink, or a
    file, where a folder must be is one problem, at the first item below it. Each folder is
    looked at once (one lstat, none below a missing one). `reported` are folders checked
    elsewhere (a target's path): a fault in or above one of them is not told twice."""
    told = {p for r in reported for p in _ancestry(posixpath.normpath(r))}
    found: dict[str, bool | str] = {}  # a real folder (True), missing (False), or the fault
    seen: set[str] = set()  # folders as given, whose ancestry was looked at
    problems = []
    for folder, where, item_id in places:
        if folder in seen:
            continue  # a thousand items in one folder (made or not yet): looked at once
        seen.add(folder)
        for path in _ancestry(posixpath.normpath(folder)):
            if path not in found:
                found[path] = _look(root / path)
                fault = found[path]
                if isinstance(fault, str) and path not in told:
                    message = f"{path} is {fault} (item {item_id!r} writes below it)"
                    problems.append(Problem(where, message, "path-escape"))
            if found[path] is not True:
                break
    return problems


def _ancestry(folder: str) -> list[str]:
    """`a`, `a/b`, `a/b/c` for `a/b/c`; nothing for the project itself or a folder outside
    it (which other checks report)."""
    if folder in (".", "..") or folder.startswith(("/", "../")):
        return []
    parts = folder.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts) + 1)]


def _look(path: Path) -> bool | str:
    """True for a real folder, False for nothing there (made when written) or what cannot be
    looked at (the write says why, for its item), else what is wrong with it."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    if stat.S_ISDIR(mode):
        return True
    if stat.S_ISLNK(mode):
        return "a symlink, and voxform never writes through one; make it a real folder"
    return "a file, not a folder" if stat.S_ISREG(mode) else "not a folder"
