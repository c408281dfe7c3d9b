"""Where a bucket's calls go: the region's virtual-hosted endpoint, or one given (path-style
for an IP or localhost, as the emulator needs); plain http only to this machine."""

from __future__ import annotations

import pytest

from voxform.errors import FatalError
from voxform.providers.oss_endpoint import ENV_ENDPOINT, oss_endpoint_for


def _url(endpoint: str | None, env: dict[str, str] | None = None, **options: bool) -> str:
    found = oss_endpoint_for("audio", "cn-shanghai", endpoint, env=env or {}, **options)
    return found.url("a b/c.mp3", lambda key: key.replace(" ", "%20"))


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        (None, "https://audio.oss-cn-shanghai.aliyuncs.com/a%20b/c.mp3"),
        (
            "oss-cn-shanghai-internal.aliyuncs.com",
            "https://audio.oss-cn-shanghai-internal.aliyuncs.com/a%20b/c.mp3",
        ),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/audio/a%20b/c.mp3"),
        ("http://localhost:9000/", "http://localhost:9000/audio/a%20b/c.mp3"),
        ("http://[::1]:9000", "http://[::1]:9000/audio/a%20b/c.mp3"),
        ("https://10.1.2.3", "https://10.1.2.3/audio/a%20b/c.mp3"),
    ],
)
def test_endpoints_and_their_addressing(endpoint: str | None, url: str) -> None:
    assert _url(endpoint) == url


def test_the_environment_names_an_endpoint_when_the_target_does_not() -> None:
    env = {ENV_ENDPOINT: "http://127.0.0.1:8080"}
    assert _url(None, env) == "http://127.0.0.1:8080/audio/a%20b/c.mp3"
    assert _url("https://oss.example.com", env).startswith("https://audio.oss.example.com/")


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("http://10.0.0.5:9000", "plain http to 10.0.0.5"),
        ("http://oss.example.com", "plain http to oss.example.com"),
        ("https://user:pw@oss.example.com", "user name or password"),
        ("https://oss.example.com/path", "is not a URL like"),
        ("ftp://oss.example.com", "is not a URL like"),
    ],
)
def test_endpoints_that_are_refused(endpoint: str, message: str) -> None:
    with pytest.raises(FatalError, match=message) as caught:
        _url(endpoint)
    assert "pw" not in str(caught.value)


def test_insecure_allows_plain_http_to_another_host() -> None:
    assert _url("http://10.0.0.5:9000", insecure=True) == "http://10.0.0.5:9000/audio/a%20b/c.mp3"


def test_an_invalid_bucket_is_refused_before_any_call() -> None:
    with pytest.raises(FatalError, match="not a valid OSS bucket name"):
        oss_endpoint_for("Bad_Bucket", "cn-shanghai", env={})
