"""Which endpoints may carry the access key: https anywhere, plain http only to this machine.

An ICE request carries the access key id and the STS token in its headers, and a signature
that anyone on the path can replay within its 15 minutes. Plain http is only safe when the
packets never leave the machine (the emulator), so any other plain-http host needs the
target's explicit `insecure: true`. Validate and the client decide with the same parser
(httpx's, which is the one that connects), so what validate accepts is what is sent.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from voxform.errors import FatalError

if TYPE_CHECKING:
    import httpx

LOCALHOST = "localhost"
# A URL's user name and password: everything between `scheme://` and the last `@` before the
# path (a password may hold an unescaped `@`).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")


def redact(text: str) -> str:
    """`text` with the user name and password of every URL in it shown as `***`."""
    return _USERINFO.sub(r"\1***@", text)


def check_endpoint(
    service: str, given: str, shape: str, *, insecure: bool, shown: str | None = None
) -> httpx.URL:
    """`given` parsed, if it is an http(s) URL of a host alone: FatalError for a path or a
    query (`shape` says what is wanted), a user name or password (requests are signed with
    the access key, and a password must not reach a message), or plain http to anything but
    this machine unless `insecure` (the target's `insecure: true`). Messages name `shown`
    (what the user wrote), by default `given`."""
    import httpx

    shown = given if shown is None else shown
    try:
        url = httpx.URL(given)
    except (httpx.InvalidURL, UnicodeError):
        url = httpx.URL("invalid:")
    if (
        url.scheme not in ("http", "https")
        or not url.host
        or url.path not in ("", "/")
        or url.query
    ):
        raise FatalError(f"{service} endpoint {redact(shown)!r} is {shape}")
    if url.userinfo:
        raise FatalError(
            f"{service} endpoint {redact(shown)!r} has a user name or password in it:"
            f" {service} requests are signed with the access key, so give the endpoint"
            " without them"
        )
    host = cleartext_host(given)
    if host is not None and not insecure:
        raise FatalError(
            f"{service} endpoint {shown!r} is plain http to {host}, which is not this machine:"
            " the access key id, STS token and signed requests would travel unencrypted, so"
            " use https, or set insecure: true on the target to accept that"
        )
    return url


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
