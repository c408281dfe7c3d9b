"""Opening one provider per target named in a plan."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator

from voxform.errors import VoxformError
from voxform.manifest.model import Project
from voxform.providers.base import Provider


@contextlib.contextmanager
def open_providers(project: Project, targets: Collection[str]) -> Iterator[dict[str, Provider]]:
    """Providers for `targets`, closed (with any engine processes) on exit."""
    providers: dict[str, Provider] = {}
    with contextlib.ExitStack() as stack:
        engine = None
        for name in sorted(targets):
            target = project.targets[name]
            if target.provider == "local":
                from voxform.providers.espeak import LocalEngine
                from voxform.providers.local import LocalProvider

                if engine is None:
                    engine = stack.enter_context(LocalEngine())
                providers[name] = LocalProvider(project.root, target.path or "build/audio", engine)
            else:
                raise VoxformError(
                    f"target {name!r}: provider {target.provider!r} is not available"
                )
            stack.callback(providers[name].close)
        yield providers
