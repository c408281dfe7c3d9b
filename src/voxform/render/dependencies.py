"""The files a template's render reads: itself and every template it includes, imports or
extends, found in its source (as the loader in templates.py would find them), each named
with a digest of its bytes. The render cache keys on them, so an edit to an included file
renders again every item of every template that reaches it. What a template includes is
found by parsing it (jinja2, loaded then), or told by a memo of earlier parses by the
digest of its bytes (state/template_includes.py): a plan that renders nothing loads none
of jinja2."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from voxform.errors import PathEscapeError
from voxform.paths import inside

if TYPE_CHECKING:
    import jinja2

MAX_FILES = 1000  # templates one template may reach; past it, it is not cached
MAX_TEMPLATE_BYTES = 100_000  # a larger template is refused by its size alone (templates.py)
UNKNOWN = "unknown"  # what IncludesMemo.get gives for bytes it was never told of

Includes = list[str] | None  # the names a template includes (None: some are computed)


class IncludesMemo(Protocol):
    """What templates include, by the sha256 (hex) of their bytes."""

    def get(self, digest: str) -> Includes | str: ...  # UNKNOWN when not known

    def put(self, digest: str, includes: Includes) -> None: ...


class TemplateFiles:
    """Each template's files, worked out once per command."""

    def __init__(
        self,
        root: Path,
        environment: Callable[[], jinja2.Environment],
        memo: IncludesMemo | None = None,
    ) -> None:
        self.root = root.resolve()
        self.environment = environment  # made when a template is first parsed
        self.memo = memo
        self._env: jinja2.Environment | None = None
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
        known = self.memo.get(digest) if self.memo is not None else UNKNOWN
        if known is None or not isinstance(known, str):
            return digest, None if known is None else list(known)
        includes = self._parse(data)
        if self.memo is not None:
            self.memo.put(digest, includes)
        return digest, includes

    def _parse(self, data: bytes) -> Includes:
        """The names template `data` includes, imports or extends (None: some computed)."""
        import jinja2
        from jinja2 import meta

        if self._env is None:
            self._env = self.environment()
        try:
            ast = self._env.parse(data.decode("utf-8"))
        except (UnicodeDecodeError, jinja2.TemplateSyntaxError):
            return []  # it fails before it includes anything
        except Exception:
            return None
        names = list(meta.find_referenced_templates(ast))
        if any(n is None for n in names):
            return None
        return [n for n in names if n is not None]
