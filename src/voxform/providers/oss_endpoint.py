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

import httpx

from voxform.endpoints import LOCALHOST, cleartext_host
from voxform.errors import FatalError
from voxform.oss.names import bucket_problem
from voxform.providers.ice_client import redact

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
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, UnicodeError):
        url = httpx.URL("invalid:")
    if (
        url.scheme not in ("http", "https")
        or not url.host
        or url.path not in ("", "/")
        or url.query
    ):
        raise FatalError(
            f"OSS endpoint {redact(given)!r} is not a URL like https://oss-{region}.aliyuncs.com"
            " or http://127.0.0.1:9000"
        )
    if url.userinfo:
        raise FatalError(
            f"OSS endpoint {redact(given)!r} has a user name or password in it: OSS requests are"
            " signed with the access key, so give the endpoint without them"
        )
    host = cleartext_host(text)
    if host is not None and not insecure:
        raise FatalError(
            f"OSS endpoint {given!r} is plain http to {host}, which is not this machine: the"
            " access key id, STS token and signed requests would travel unencrypted, so use"
            " https, or set insecure: true on the target to accept that"
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
