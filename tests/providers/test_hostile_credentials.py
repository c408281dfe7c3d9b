"""Credentials and endpoints are checked before the first request and never echoed: a key
that cannot be sent, an unreadable aliyun config or a password in the endpoint stops apply
with one sentence, no request made, no secret shown, the lockfile as it was."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Runner, one_error
from providers.conftest import HostileIce
from voxform.errors import FatalError, UnknownOutcome
from voxform.providers import ice_client
from voxform.providers.credentials import Credentials, load_credentials
from voxform.providers.ice_client import IceClient, endpoint_for

LOCKFILE = b'{\n  "items": {},\n  "lockfile_version": 1\n}\n'


def apply(voxform: Runner, project: Path) -> Result:
    (project / "voxform.lock").write_bytes(LOCKFILE)
    result = voxform(project, "apply", "--yes")
    assert (project / "voxform.lock").read_bytes() == LOCKFILE
    return result


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "tëstid",
            "ALIBABA_CLOUD_ACCESS_KEY_ID contains a non-ASCII character (character 2 of 6)",
        ),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "test secret",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET contains a space (character 5 of 11)",
        ),
        (
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            "sts\nHIDDENPART",
            "ALIBABA_CLOUD_SECURITY_TOKEN contains a line break (character 4 of 14)",
        ),
        (
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            "sts\x1b[2JHIDDENPART",
            "contains a control character (character 4 of 17)",
        ),
    ],
    ids=["non-ascii-id", "space-in-secret", "newline-in-token", "escape-in-token"],
)
def test_a_credential_that_cannot_be_sent_stops_apply_before_any_request(
    hostile: HostileIce,
    ice_project: Path,
    voxform: Runner,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)

    result = apply(voxform, ice_project)

    one_error(result, message, "printable ASCII without spaces")
    assert "HIDDENPART" not in result.output and value not in result.output
    assert hostile.calls == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (b'{"current": "\xff", "profiles": []}', "config.json:1:14: not UTF-8 text (byte 0xff)"),
        (b"[" * 100_000 + b"]" * 100_000, "config.json: nested too deeply to read"),
        (
            b'{"current": "default", "profiles": [{"name": ["default"], "mode": "AK"}]}',
            "config.json: profile 1 has a name that is not a string (a list)",
        ),
        (
            b'{"current": ["default"], "profiles": []}',
            "config.json: 'current' must be a profile name, not a list",
        ),
        (
            b'{"current": "default", "profiles": [{"name": "default", "mode": "AK",'
            b' "access_key_id": "t\xc3\xabst", "access_key_secret": "s"}]}',
            "access_key_id of aliyun CLI profile 'default' in ",
        ),
    ],
    ids=["not-utf-8", "deep", "name-is-a-list", "current-is-a-list", "non-ascii-id"],
)
def test_an_unreadable_aliyun_config_stops_apply_naming_the_place(
    hostile: HostileIce,
    ice_project: Path,
    voxform: Runner,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    config: bytes,
    message: str,
) -> None:
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
    monkeypatch.delenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    path = tmp_path / "home" / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(config)

    result = apply(voxform, ice_project)

    one_error(result, message)
    assert hostile.calls == []


@pytest.mark.parametrize("where", ["environment", "manifest"])
def test_a_password_in_the_endpoint_is_never_shown(
    hostile: HostileIce,
    ice_project: Path,
    voxform: Runner,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    endpoint = hostile.url.replace("http://", "http://narrator:hunter2@")
    if where == "environment":
        monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", endpoint)
    else:
        monkeypatch.delenv("VOXFORM_ICE_ENDPOINT")
        manifest = ice_project / "voxform.yaml"
        manifest.write_text(
            manifest.read_text().replace("course/", f"course/, endpoint: '{endpoint}'")
        )

    result = apply(voxform, ice_project)

    line = one_error(result, "ICE endpoint 'http://***@127.0.0.1:", "has a user name or password")
    assert "hunter2" not in result.output and "narrator:" not in line
    assert hostile.calls == []


# --- the pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("http://user:pass@host:8080/", "http://***@host:8080/"),
        ("https://u:p@ss@host", "https://***@host"),
        ("at ftp://me@host/x or http://a:b@c", "at ftp://***@host/x or http://***@c"),
        ("http://host/path@x", "http://host/path@x"),
        ("cn-shanghai", "cn-shanghai"),
    ],
)
def test_redact_hides_the_user_and_password_of_every_url(text: str, shown: str) -> None:
    assert ice_client.redact(text) == shown


def test_a_bad_endpoint_with_a_password_is_refused_without_it() -> None:
    with pytest.raises(FatalError) as caught:
        endpoint_for("ftp://me:hunter2@host")
    assert "hunter2" not in str(caught.value)
    assert "neither a region" in str(caught.value)


def test_credentials_made_in_code_are_checked_too() -> None:
    with pytest.raises(FatalError, match="the access key secret from tests contains a line break"):
        Credentials("id", "sec\nret", None, source="tests")
    with pytest.raises(FatalError, match="the access key id from tests is empty"):
        Credentials("", "secret", None, source="tests")


def test_an_error_from_the_http_layer_never_carries_a_secret() -> None:
    """Whatever the network layer says (an error may quote what it was sending), the secret
    and token are blanked out before the message can reach output or the lockfile."""
    credentials = Credentials("testid", "SECRETVALUE", "TOKENVALUE", source="tests")

    class Quoting:
        def sendall(self, data: bytes) -> None:
            raise OSError(f"cannot send {data!r} near SECRETVALUE")

        def close(self) -> None:
            pass

    class Refusing(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = Quoting()

    with (
        IceClient("http://127.0.0.1:9", credentials, connect=lambda: Refusing("127.0.0.1")) as ice,
        pytest.raises(UnknownOutcome) as caught,
    ):
        ice.get_smart_handle_job("job-1")
    assert "TOKENVALUE" in repr(caught.value.__cause__.__cause__)  # what was quoted
    assert "TOKENVALUE" not in str(caught.value) and "SECRETVALUE" not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_profile_named_on_the_command_line_that_is_absent_lists_string_names(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".aliyun" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"current": "a", "profiles": [{"name": "a", "mode": "AK"}]}))
    with pytest.raises(FatalError, match=r"no aliyun CLI profile 'b' .*\(profiles: 'a'\)"):
        load_credentials(profile="b", env={}, home=tmp_path)
