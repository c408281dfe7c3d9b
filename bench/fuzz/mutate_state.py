"""Mutations of what voxform writes: the lockfile (as JSON and as bytes), the journal, and
symlinks, hard links, FIFOs and directories planted where outputs go."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from .case import Case, clear, read_regular, write_file
from .documents import dump_json, nodes, put, spell
from .hostile import Raw, hostile_id, hostile_value, json_raw


def ensure_lockfile(case: Case, template: Path) -> Path:
    lock = case.relative("voxform.lock")
    if not lock.exists() and not lock.is_symlink():
        shutil.copyfile(template / "quickstart" / "voxform.lock", lock)
    return lock


def lock_doc(lock: Path) -> dict[str, Any] | None:
    data = read_regular(lock)
    if data is None:
        return None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), dict) or too_deep(doc):
        return None  # the byte-level mutations take it from here
    return doc


def too_deep(doc: object, limit: int = 100) -> bool:
    """Whether `doc` nests past `limit` (the mutators walk documents recursively)."""
    level: list[object] = [doc]
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (
                node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
            )
        ]
        if not level:
            return False
    return True


def mutate_lockfile(case: Case, template: Path) -> str:
    """Edit voxform.lock as JSON (types, numbers, nesting, paths in outputs) or as bytes."""
    rng = case.rng
    lock = ensure_lockfile(case, template)
    doc = lock_doc(lock)
    if doc is None or rng.random() < 0.2:
        return mutate_lock_bytes(case, lock)
    items: dict[str, Any] = doc["items"]
    entries = [e for e in items.values() if isinstance(e, dict)]
    op = rng.choice(
        (
            "swap",
            "swap",
            "version",
            "number",
            "escape",
            "escape",
            "orphan",
            "many",
            "drop",
            "structure",
        )
    )
    entry = rng.choice(entries) if entries else {}
    if op == "swap":
        path, _ = rng.choice([(p, v) for p, v in nodes(doc) if p])
        value = hostile_value(rng, case.sentinel)
        if isinstance(value, Raw) or rng.random() < 0.3:
            value = json_raw(rng)
        put(doc, path, value)
        label = f"{spell(path)} = {value.label if isinstance(value, Raw) else repr(value)[:40]}"
    elif op == "version":
        doc["lockfile_version"] = rng.choice(
            [
                True,
                "1",
                2,
                0,
                -1,
                1.0,
                None,
                [],
                {},
                Raw("1e999", "1e999"),
                Raw("1" + "0" * 5000, "big"),
            ]
        )
        label = f"lockfile_version = {doc['lockfile_version']!r:.40}"
    elif op == "number":
        name = rng.choice(("duration", "characters"))
        entry[name] = json_raw(rng)
        label = f"{name} = {entry[name].label}"
    elif op in ("escape", "orphan"):
        victim = rng.choice(
            [
                "../../x",
                "../victim.txt",
                "../../victim.txt",
                "../../../victim.txt",
                "../sentinel/victim.txt",
                f"{case.sentinel}/victim.txt",
                "texts/lesson-01.md",
                "voxform.yaml",
                "templates/plain.ssml.j2",
                "build/audio/../../voxform.yaml",
                "build/audio/welcome.mp3/../../../voxform.yaml",
                ".",
                "",
                "build",
                "texts",
                "build/audio/chapters/../../../texts/lesson-01.md",
                ".git",
                "/",
            ]
        )
        if op == "orphan":
            entry = dict(entry) if entry else {"state": "finished", "characters": 1}
            items[rng.choice(["zz-orphan", "../zz", "zz/../../x"])] = entry
        where = rng.choice(("outputs", "url", "subtitles"))
        if where == "outputs":
            entry["outputs"] = {victim: {"sha256": "0" * 64, "size": 1}}
        elif where == "url":
            entry["url"] = victim
        else:
            entry["subtitles"] = {"vtt": victim, "srt": victim}
        if rng.random() < 0.5 and isinstance(entry.get("inputs"), dict):
            entry["inputs"]["format"] = "wav"  # stale: an update removes the old files
            entry["fingerprint"] = "sha256:" + "0" * 64
        label = f"{op}: {where} -> {victim!r}"
    elif op == "many":
        model = dict(entries[0]) if entries else {"state": "finished", "characters": 1}
        count = rng.choice((1000, 20_000))
        for n in range(count):
            items[f"gone/{n:05}"] = model
        label = f"{count} entries not in the manifest"
    elif op == "drop":
        if entries:
            name = rng.choice(sorted(items))
            field_name = rng.choice(sorted(items[name])) if isinstance(items[name], dict) else ""
            if field_name:
                del items[name][field_name]
            label = f"drop {name}.{field_name}"
        else:
            label = "drop nothing"
    else:
        doc = rng.choice([{"items": []}, {"items": None}, {}, [], {"lockfile_version": 1}])
        label = f"document {json.dumps(doc)}"
    lock.write_bytes(dump_json(doc, rng))
    return f"lock: {op} {label}"


def mutate_lock_bytes(case: Case, lock: Path) -> str:
    rng = case.rng
    data = read_regular(lock) or b"{}"
    op = rng.choice(
        ("truncate", "encoding", "bom", "nul", "flip", "conflict", "duplicate", "empty", "huge")
    )
    at = rng.randrange(len(data) + 1)
    if op == "truncate":
        data = data[:at]
    elif op == "encoding":
        data = data[:at] + b"\xff\xc3\x28" + data[at:]
    elif op == "bom":
        data = b"\xef\xbb\xbf" + data
    elif op == "nul":
        data = data[:at] + b"\x00" + data[at:]
    elif op == "flip" and data:
        data = (
            data[: min(at, len(data) - 1)]
            + bytes([data[min(at, len(data) - 1)] ^ 0x20])
            + (data[min(at, len(data) - 1) + 1 :])
        )
    elif op == "conflict":
        data = b"<<<<<<< HEAD\n" + data + b"=======\n{}\n>>>>>>> branch\n"
    elif op == "duplicate":
        data = data.replace(b"{\n", b'{\n  "lockfile_version": 1,\n', 1)
    elif op == "empty":
        data = b""
    else:
        data = b'{"items": {}, "lockfile_version": 1, "x": "' + b"y" * (30 << 20) + b'"}\n'
    clear(lock)
    lock.write_bytes(data)
    return f"lock bytes: {op}@{at}"


def mutate_journal(case: Case, template: Path) -> str:
    """A journal left behind in .voxform/, with records voxform would not write."""
    rng = case.rng
    doc = lock_doc(ensure_lockfile(case, template)) or {"items": {}}
    names = sorted(doc["items"]) or ["welcome"]
    entry = doc["items"].get(names[0])
    model = dict(entry) if isinstance(entry, dict) else {"state": "finished"}
    pending = dict(model, state="pending", job_id="job-1", token="t" * 32)
    lines = [
        json.dumps({"at": 1.0, "entry": model, "id": rng.choice(names)}).encode(),
        json.dumps({"at": 1.0, "entry": None, "id": rng.choice(names)}).encode(),
        json.dumps({"at": 1.0, "entry": pending, "id": rng.choice(names)}).encode(),
        json.dumps({"at": 1.0, "entry": model, "id": hostile_id(rng)}).encode(),
        b'{"at": 1e999, "entry": null, "id": "welcome"}',
        b'{"at": "x", "id": "welcome"}',
        b"[" * 100_000,
        b"\xff\xfe",
        b'{"id": "welcome", "entry": ' + b"1" + b"0" * 5000 + b"}",
        b"x" * (5 << 20),
        b"{}",
        b"null",
    ]
    chosen = rng.sample(lines, rng.randint(1, 4))
    folder = case.relative(".voxform")
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        return "journal: no .voxform"
    folder.mkdir(exist_ok=True)
    data = b"\n".join(chosen) + (b"\n" if rng.random() < 0.7 else b"")
    write_file(folder / "voxform.lock.journal", data)
    return f"journal: {len(chosen)} records ({chosen[0][:40]!r})"


def mutate_plant(case: Case, template: Path) -> str:
    """A symlink, hard link, FIFO or directory where voxform writes or reads."""
    rng, s = case.rng, case.sentinel
    plants: list[tuple[str, str, str]] = [  # (where, kind, what)
        ("build/audio/welcome.mp3", "symlink", "../../templates/plain.ssml.j2"),
        ("build/audio/welcome.vtt", "symlink", "../../voxform.yaml"),
        ("build/audio/lesson-01.mp3", "symlink", f"{s}/victim.txt"),
        ("build/audio/guest-tip.wav", "symlink", f"{s}/new-file"),
        ("build/audio/welcome.mp3", "symlink", "welcome.mp3"),
        ("build/audio/chapters", "symlink", f"{s}/dir"),
        ("build/audio", "symlink", "../templates"),
        ("build", "symlink", f"{s}/build"),
        ("subtitles", "symlink", str(s)),
        (".voxform", "symlink", f"{s}/state"),
        (".voxform/apply.lease", "symlink", f"{s}/victim.txt"),
        (".voxform/voxform.lock.journal", "symlink", f"{s}/victim.txt"),
        (".voxform/stat-cache.json", "symlink", f"{s}/victim.txt"),
        ("voxform.lock", "symlink", f"{s}/lock.json"),
        ("build/audio/welcome.mp3", "hardlink", f"{s}/victim.txt"),
        ("build/audio/welcome.mp3", "hardlink", "templates/plain.ssml.j2"),
        ("build/audio/welcome.srt", "hardlink", "voxform.yaml"),
        ("build/audio/welcome.mp3", "fifo", ""),
        ("build/audio/welcome.mp3", "symlink", "/dev/zero"),
        ("build/audio/welcome.mp3", "directory", ""),
        ("voxform.lock", "fifo", ""),
        ("voxform.lock", "symlink", "/dev/zero"),
        ("voxform.lock", "directory", ""),
        (".voxform/voxform.lock.journal", "fifo", ""),
        (".voxform/stat-cache.json", "symlink", "/dev/zero"),
        ("texts/chapters/03-fifo.md", "fifo", ""),
        ("texts/chapters/03-zero.md", "symlink", "/dev/zero"),
        ("texts/chapters/03-out.md", "symlink", f"{s}/secret.md"),
        ("texts/chapters/loop", "symlink", "."),
        ("templates/plain.ssml.j2", "symlink", f"{s}/secret.j2"),
        ("templates/plain.ssml.j2", "fifo", ""),
        ("texts/lesson-01.md", "symlink", "/dev/zero"),
    ]
    if case.example != "quickstart":
        plants = [
            p
            for p in plants
            if not p[0].startswith(("texts/", "templates/")) and "templates/" not in p[2]
        ]
    where, kind, what = rng.choice(plants)
    if where == "voxform.lock" or where.startswith(".voxform/voxform.lock"):
        ensure_lockfile(case, template)
    path = case.relative(where)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear(path)
    if kind == "symlink":
        path.symlink_to(what)
    elif kind == "hardlink":
        os.link(what if what.startswith("/") else case.relative(what), path)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    return f"plant: {where} {kind} {what}".rstrip()
