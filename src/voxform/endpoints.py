"""Which endpoints may carry the access key: https anywhere, plain http only to this machine.

An ICE request carries the access key id and the STS token in its headers, and a signature
that anyone on the path can replay within its 15 minutes. Plain http is only safe when the
packets never leave the machine (the emulator), so any other plain-http host needs the
target's explicit `insecure: true`. Validate and the client decide with the same parser
(httpx's, which is the one that connects), so what validate accepts is what is sent.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOCALHOST = "localhost"


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (also as an IPv4-mapped address). Nothing that needs
    a name lookup beyond `localhost` counts: DNS could answer anything."""
    name = host.lower()
    if name == LOCALHOST:
        return True
    try:
        address = ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def cleartext_host(endpoint: str) -> str | None:
    """The host an endpoint would reach over plain http when it is not this machine; None
    for https, a loopback host, a region name or something that is not a URL at all (which
    the client refuses with its own message)."""
    import httpx  # here: `validate` of a project without a plain-http endpoint needs none

    try:
        url = httpx.URL(endpoint.strip())
    except (httpx.InvalidURL, UnicodeError):
        return None
    if url.scheme != "http" or not url.host or is_loopback(url.host):
        return None
    return url.host


def endpoint_identity(endpoint: str) -> str:
    """An endpoint as plan compares it: scheme and host in lower case, no final `/`. The
    standard library's split, not httpx's, so that an httpx upgrade never moves a digest."""
    text = endpoint.strip().rstrip("/")
    parts = urlsplit(text)
    raw = f"{parts.scheme}://{parts.netloc}"  # the scheme as split is lower case already
    if not parts.netloc or text[: len(raw)].lower() != raw.lower():
        return text  # not a URL as this split reads it: compared as written
    return raw.lower() + text[len(raw) :]
