"""Target kinds to provider classes, and opening the providers a run needs."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar, cast

from voxform.manifest.model import Project, Target
from voxform.providers.protocol import Provider, Resources, Storage

T = TypeVar("T")

# Imported on first use: `validate` and `plan` need no HTTP client or engine process.
_CLASSES = {
    "local": ("voxform.providers.local", "LocalProvider"),
    "ice": ("voxform.providers.ice", "IceProvider"),
}


_STORAGES = {
    "local": ("voxform.providers.local_storage", "LocalStorage"),
    "ice": ("voxform.providers.oss_storage", "OssStorage"),
}


def storage_for(target: Target, resources: Resources) -> Storage:
    """Where `target`'s audio is kept (its folder, or its bucket), opened."""
    module, name = _STORAGES[target.provider]
    cls = getattr(importlib.import_module(module), name)
    return cast(Storage, cls.for_target(target, resources))


def provider_class(kind: str) -> type[Provider]:
    """The class that serves targets of `kind` (a name the schema allows)."""
    module, name = _CLASSES[kind]
    return cast(type[Provider], getattr(importlib.import_module(module), name))


def provider_for(target: Target) -> type[Provider]:
    """The class that serves `target`."""
    return provider_class(target.provider)


class _Resources:
    """Resources shared by the providers of one run, closed with it."""

    def __init__(self, root: Path, profile: str | None, stack: contextlib.ExitStack) -> None:
        self.root = root
        self.profile = profile
        self._stack = stack
        self._made: dict[str, object] = {}

    def shared(self, key: str, factory: Callable[[], T]) -> T:
        if key not in self._made:
            value = factory()
            if isinstance(value, AbstractContextManager):
                self._stack.enter_context(value)
            self._made[key] = value
        return cast(T, self._made[key])


@contextlib.contextmanager
def open_storages(
    project: Project, targets: Collection[str], *, profile: str | None = None
) -> Iterator[dict[str, Storage]]:
    """The storages of `targets`, closed on exit."""
    storages: dict[str, Storage] = {}
    with contextlib.ExitStack() as stack:
        resources = _Resources(project.root, profile, stack)
        for name in sorted(targets):
            storage = storage_for(project.targets[name], resources)
            storages[name] = storage
            stack.callback(storage.close)
        yield storages


@contextlib.contextmanager
def open_providers(
    project: Project, targets: Collection[str], *, profile: str | None = None
) -> Iterator[dict[str, Provider]]:
    """Providers for `targets`, closed (with any engine processes) on exit."""
    providers: dict[str, Provider] = {}
    with contextlib.ExitStack() as stack:
        resources = _Resources(project.root, profile, stack)
        for name in sorted(targets):
            target = project.targets[name]
            provider = provider_for(target).for_target(target, resources)
            providers[name] = provider
            stack.callback(provider.close)
        yield providers
