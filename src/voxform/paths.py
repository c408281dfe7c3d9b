"""Keeping every path a manifest names inside the project root."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from pathlib import Path, PurePosixPath

from voxform.errors import PathEscapeError


def inside(root: Path, relative: str, *, real_root: Path | None = None) -> Path:
    """Resolve `relative` under `root`; refuse absolute paths, `..` and escaping symlinks.
    `real_root`: `root` resolved already (for a caller asking of many paths)."""
    if not relative or relative.startswith(("/", "\\")) or PurePosixPath(relative).is_absolute():
        raise PathEscapeError(f"{relative!r} is absolute; paths must be relative to the project")
    if len(relative) > 1 and relative[1] == ":":
        raise PathEscapeError(f"{relative!r} is absolute; paths must be relative to the project")
    if "\x00" in relative:
        raise PathEscapeError(f"{relative!r} has a NUL character, which no file name holds")
    if real_root is None:
        real_root = root.resolve()
    candidate = (real_root / relative).resolve()
    if candidate != real_root and real_root not in candidate.parents:
        raise PathEscapeError(f"{relative!r} escapes the project root")
    return candidate


class InsideFolders:
    """`inside(root, rel)` asked of many files in a few folders (a source's glob): a file
    that is not a symlink is inside when its folder is, and each folder is resolved once
    (one lstat for a file, where resolving it anew stats every part of its path). Anything
    else (a symlink, a `..` part, a file that cannot be looked at) is `inside`'s to judge."""

    def __init__(self, root: Path, real_root: Path) -> None:
        self.root = root
        self.real_root = real_root
        self._folders: dict[str, bool] = {}  # a folder (relative) -> whether it is inside

    def check(self, relative: str) -> None:
        """PathEscapeError, as `inside` raises it, when `relative` is not inside."""
        folder, _, name = relative.rpartition("/")
        if (
            name
            and name != ".."
            and "\x00" not in relative
            and not relative.startswith("/")
            and relative[1:2] != ":"
            and ".." not in folder.split("/")
            and self._folder_inside(folder)
        ):
            try:
                mode = os.lstat(self.real_root / relative).st_mode
            except (OSError, ValueError):
                mode = stat.S_IFLNK  # judged the long way, which tells why
            if not stat.S_ISLNK(mode):
                return
        inside(self.root, relative, real_root=self.real_root)

    def _folder_inside(self, folder: str) -> bool:
        found = self._folders.get(folder)
        if found is None:
            real = (self.real_root / folder).resolve() if folder else self.real_root
            found = real == self.real_root or self.real_root in real.parents
            self._folders[folder] = found
        return found


def below(root: Path, relative: str) -> Path:
    """`root / relative` without resolving anything (so a writer can refuse each symlink on
    the way); PathEscapeError for an empty or absolute path or one with a `..` part."""
    if not relative or PurePosixPath(relative).is_absolute() or relative[1:2] == ":":
        raise PathEscapeError(f"{relative!r} is not a path relative to the project")
    if "\x00" in relative:
        raise PathEscapeError(f"{relative!r} has a NUL character, which no file name holds")
    parts = PurePosixPath(relative).parts
    if ".." in parts:
        raise PathEscapeError(f"{relative!r} has a '..' part; it could leave its folder")
    return root.joinpath(*parts)


def relative_to_root(root: Path, path: Path, *, real_root: Path | None = None) -> str:
    """A project-relative POSIX path for messages and the lockfile (`real_root`: `root`
    resolved already)."""
    return Path(
        os.path.relpath(path, root.resolve() if real_root is None else real_root)
    ).as_posix()


# -- ids: the names of audio objects, and of their files under a target's path --------------

ID_MAX = 200  # bytes (ids are ASCII): `<id>.<ext>` fits in a 255-byte name, prefixed or not
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*(/[a-z0-9_-][a-z0-9._-]*)*$")
SLUG_MAX = 80  # a file stem's share of an expanded id `<source>/<stem>/<chunk>`


def id_problem(value: str) -> str | None:
    """Why `value` is not a path-safe id, in one sentence; None when it is one."""
    if len(value) > ID_MAX:
        return f"id {value[:40]!r}... is {len(value)} characters; ids have at most {ID_MAX}"
    if ID_PATTERN.fullmatch(value):  # fullmatch: `$` would let a final newline through
        return None
    return (
        f"{value!r} is not a path-safe id: use lower-case letters, digits and . _ - in "
        "parts separated by '/', the first starting with a letter or digit and none empty "
        "or starting with '.' (so no '.' or '..' part)"
    )


_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_EDGES = re.compile(r"^[.-]+|-+$")
# Latin letters that Unicode does not decompose; fixed here, as a changed spelling is a new id
_LATIN = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ı": "i"}
)


def slug(stem: str) -> str:
    """A file's stem (relative to its glob, `/` included) as one id part: lower-case ASCII,
    transliterated where Unicode decomposes to it (é -> e; ø -> o and a few more by hand).
    Letters with no ASCII spelling, an empty result or one longer than SLUG_MAX get 8 hex
    digits of the name's SHA-256: every name keeps a distinct id, the same on every machine."""
    name = unicodedata.normalize("NFC", stem)
    kept, lost = [], False
    for char in unicodedata.normalize("NFKD", name.lower().translate(_LATIN)):
        if char.isascii():
            kept.append(char)
        elif unicodedata.category(char)[0] in "LN":
            lost = True
            kept.append(" ")
        elif unicodedata.category(char)[0] != "M":  # combining accents just go
            kept.append(" ")
    text = _EDGES.sub("", _UNSAFE.sub("-", "".join(kept).lower()))
    if not (lost or not text or len(text) > SLUG_MAX):
        return text
    tag = hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    text = _EDGES.sub("", text[: SLUG_MAX - len(tag) - 1])
    return f"{text}-{tag}" if text else tag
