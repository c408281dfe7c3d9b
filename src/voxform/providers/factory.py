"""Opening one provider per target named in a plan."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator

from voxform.manifest.model import Project, Target
from voxform.providers.base import Provider

DEFAULT_REGION = "cn-shanghai"
ENDPOINT_ENV = "VOXFORM_ICE_ENDPOINT"


def ice_endpoint(target: Target) -> str:
    """VOXFORM_ICE_ENDPOINT, else the target's endpoint, else its region's public host."""
    return os.environ.get(ENDPOINT_ENV) or target.endpoint or target.region or DEFAULT_REGION


def subtitle_dir(target: Target) -> str:
    """Where subtitle files of a target's items go: beside local audio, else subtitles/."""
    if target.provider == "local":
        return target.path or "build/audio"
    return f"subtitles/{target.name}"


@contextlib.contextmanager
def open_providers(
    project: Project, targets: Collection[str], *, profile: str | None = None
) -> Iterator[dict[str, Provider]]:
    """Providers for `targets`, closed (with any engine processes) on exit."""
    providers: dict[str, Provider] = {}
    with contextlib.ExitStack() as stack:
        engine = None
        credentials = None
        for name in sorted(targets):
            target = project.targets[name]
            provider: Provider
            if target.provider == "local":
                from voxform.providers.espeak import LocalEngine
                from voxform.providers.local import LocalProvider

                if engine is None:
                    engine = stack.enter_context(LocalEngine())
                provider = LocalProvider(project.root, target.path or "build/audio", engine)
            else:
                from voxform.providers.credentials import load_credentials
                from voxform.providers.ice import IceProvider
                from voxform.providers.ice_client import IceClient

                if credentials is None:
                    credentials = load_credentials(profile)
                provider = IceProvider(IceClient(ice_endpoint(target), credentials))
            providers[name] = provider
            stack.callback(provider.close)
        yield providers
