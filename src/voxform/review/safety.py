"""What the review page lets a browser load: a relative file in its own folder, or a URL at an
allowed audio origin. Every other address is dropped before it reaches an attribute.

The strings come from manifests, lockfiles and presigners, so they are untrusted: a
`javascript:` address, a `//host/` path, `../` out of the page's folder, a URL whose origin
the CSP does not list (it would be blocked anyway, and say so in the console), or an origin
that would add a directive to the CSP itself (`https://a; script-src *`).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# An origin as the CSP's media-src takes it: scheme, host (a name, an IPv4 address or a
# bracketed IPv6 address) and an optional port; nothing that could end the directive.
_ORIGIN = re.compile(
    r"^(https?)://([a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(:[0-9]{1,5})?$"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def origin(text: str) -> str | None:
    """The origin in its canonical form (lower case, no default port), or None if not one."""
    match = _ORIGIN.match(text.strip().lower())
    if match is None:
        return None
    scheme, host, port = match.groups()
    if port is not None:
        number = int(port[1:])
        if number > 65535:
            return None
        if number == _DEFAULT_PORTS[scheme]:
            port = None
    return f"{scheme}://{host}{port or ''}"


def origins(texts: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the allowed origins, canonical and unique; the strings that were not an origin)."""
    allowed: list[str] = []
    refused: list[str] = []
    for text in texts:
        canonical = origin(text)
        if canonical is None:
            refused.append(text)
        elif canonical not in allowed:
            allowed.append(canonical)
    return tuple(allowed), tuple(refused)


def relative_path(text: str) -> str | None:
    """A path inside the page's folder, percent-encoded for an attribute; None otherwise."""
    if not text or _UNPRINTABLE.search(text) or text.startswith("/"):
        return None
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or parts.query or parts.fragment:
        return None
    segments = text.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return None
    return quote(text, safe="/-._~")


def media_address(text: str, allowed: tuple[str, ...]) -> str | None:
    """`text` if a browser may load it as the page's audio: a relative path in the page's
    folder, or an http(s) URL at one of the `allowed` origins (no user name in it)."""
    local = relative_path(text)
    if local is not None:
        return local
    if _UNPRINTABLE.search(text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or "@" in parts.netloc or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    found = origin(f"{parts.scheme}://{host}" + (f":{port}" if port is not None else ""))
    if found is None or found not in allowed:
        return None
    return text
