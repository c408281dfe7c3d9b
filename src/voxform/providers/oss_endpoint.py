"""Where a bucket's OSS calls go: the region's endpoint, virtual-hosted, or one given.

`https://BUCKET.oss-REGION.aliyuncs.com` from the region; a target's `oss_endpoint:` or
`VOXFORM_OSS_ENDPOINT` instead (an internal endpoint, or the emulator). An endpoint whose host
is an IP address or `localhost` is addressed path-style (`http://HOST:PORT/BUCKET/KEY`), as
the official SDK does; a named host gets the bucket in front of it. Plain http is refused for
anything but this machine unless the target says `insecure: true` (voxform.endpoints).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from voxform.endpoints import LOCALHOST, check_endpoint
from voxform.errors import FatalError
from voxform.oss.names import bucket_problem

ENV_ENDPOINT = "VOXFORM_OSS_ENDPOINT"


@dataclass(frozen=True)
class OssEndpoint:
    """A bucket's address: origin (`scheme://host[:port]`, the bucket's host when
    virtual-hosted), region (signed into every request) and addressing style."""

    bucket: str
    region: str
    origin: str
    path_style: bool

    @property
    def shown(self) -> str:
        """The endpoint as messages show it."""
        return self.origin + (f"/{self.bucket}" if self.path_style else "")

    def url(self, key: str | None, path_of: Callable[[str], str]) -> str:
        """The URL of an object (`key`) or of the bucket (None); `path_of` encodes a key."""
        base = f"{self.origin}/{self.bucket}/" if self.path_style else f"{self.origin}/"
        return base + (path_of(key) if key is not None else "")


def oss_endpoint_for(
    bucket: str,
    region: str,
    endpoint: str | None = None,
    *,
    insecure: bool = False,
    env: Mapping[str, str] | None = None,
) -> OssEndpoint:
    """The endpoint of `bucket`: `endpoint` (a target's `oss_endpoint:`), else
    $VOXFORM_OSS_ENDPOINT, else the region's. FatalError for what cannot be used."""
    problem = bucket_problem(bucket)
    if problem is not None:
        raise FatalError(problem)
    given = endpoint or (os.environ if env is None else env).get(ENV_ENDPOINT, "").strip()
    if not given:
        return OssEndpoint(bucket, region, f"https://{bucket}.oss-{region}.aliyuncs.com", False)
    text = given if "://" in given else f"https://{given}"
    url = check_endpoint(
        "OSS",
        text,
        f"not a URL like https://oss-{region}.aliyuncs.com or http://127.0.0.1:9000",
        insecure=insecure,
        shown=given,
    )
    port = f":{url.port}" if url.port is not None else ""
    if _by_address(url.host):
        host_part = f"[{url.host}]" if ":" in url.host else url.host
        return OssEndpoint(bucket, region, f"{url.scheme}://{host_part}{port}", True)
    return OssEndpoint(bucket, region, f"{url.scheme}://{bucket}.{url.host}{port}", False)


def _by_address(host: str) -> bool:
    """Whether `host` is an IP address or localhost (no bucket can go in front of it)."""
    if host.lower() == LOCALHOST:
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
