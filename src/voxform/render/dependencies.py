"""The files a template's render reads: itself and every template it includes, imports or
extends, found in its source (as the loader in templates.py would find them), each named
with a digest of its bytes. The render cache keys on them, so an edit to an included file
renders again every item of every template that reaches it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2
from jinja2 import meta

from voxform.errors import PathEscapeError
from voxform.paths import inside
from voxform.render.limits import MAX_TEMPLATE_BYTES

MAX_FILES = 1000  # templates one template may reach; past it, it is not cached


class TemplateFiles:
    """Each template's files, worked out once per command."""

    def __init__(self, root: Path, env: jinja2.Environment) -> None:
        self.root = root.resolve()
        self.env = env
        self._files: dict[str, tuple[str, list[str] | None]] = {}  # name -> digest, includes
        self._closures: dict[str, str | None] = {}

    def digest(self, name: str) -> str | None:
        """A digest of every file template `name` reads (the names and their bytes); None
        when a name it includes is computed as it renders, so the files cannot be known."""
        if name in self._closures:
            return self._closures[name]
        seen: dict[str, str] = {}
        todo = [name]
        result: str | None = None
        while todo and len(seen) <= MAX_FILES:
            current = todo.pop()
            if current in seen:
                continue
            file_digest, includes = self._file(current)
            seen[current] = file_digest
            if includes is None:
                break
            todo.extend(includes)
        else:
            if not todo:
                spelt = "".join(f"{len(k)}:{k}={v}\0" for k, v in sorted(seen.items()))
                result = hashlib.sha256(spelt.encode("utf-8", "surrogatepass")).hexdigest()
        self._closures[name] = result
        return result

    def _file(self, name: str) -> tuple[str, list[str] | None]:
        """The digest of template `name` and the names it includes (None: some computed)."""
        found = self._files.get(name)
        if found is None:
            found = self._files[name] = self._read(name)
        return found

    def _read(self, name: str) -> tuple[str, list[str] | None]:
        if name == "<plain>":
            return "builtin", []
        try:
            path = inside(self.root, name)
            if not path.is_file():
                return "missing", []
            size = path.stat().st_size
            if size > MAX_TEMPLATE_BYTES:
                return f"large {size}", []  # refused by its size alone
            data = path.read_bytes()
        except PathEscapeError:
            return "outside", []
        except (OSError, ValueError) as exc:
            return f"unreadable {type(exc).__name__}", None  # may read otherwise next time
        digest = hashlib.sha256(data).hexdigest()
        try:
            ast = self.env.parse(data.decode("utf-8"))
        except (UnicodeDecodeError, jinja2.TemplateSyntaxError):
            return digest, []  # it fails before it includes anything
        except Exception:
            return digest, None
        names = list(meta.find_referenced_templates(ast))
        if any(n is None for n in names):
            return digest, None
        return digest, [n for n in names if n is not None]
