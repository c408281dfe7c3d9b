"""Where the access keys come from: the environment, then the aliyun CLI's config file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from voxform.errors import FatalError
from voxform.providers.credentials import Credentials, load_credentials

ENV = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "env-id",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret",
}


def ak(name: str, key_id: str = "cli-id", secret: str = "cli-secret") -> dict[str, Any]:
    return {
        "name": name,
        "mode": "AK",
        "access_key_id": key_id,
        "access_key_secret": secret,
        "sts_token": "",
        "region_id": "cn-shanghai",
    }


def write_config(home: Path, profiles: list[dict[str, Any]], current: str = "default") -> Path:
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"current": current, "profiles": profiles}), encoding="utf-8")
    return path


def test_environment_variables_come_first(tmp_path: Path) -> None:
    write_config(tmp_path, [ak("default")])
    found = load_credentials(env=ENV, home=tmp_path)
    assert (found.access_key_id, found.access_key_secret) == ("env-id", "env-secret")
    assert found.security_token is None
    assert found.source == "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)"


def test_an_environment_security_token_is_used(tmp_path: Path) -> None:
    found = load_credentials(env={**ENV, "ALIBABA_CLOUD_SECURITY_TOKEN": "sts"}, home=tmp_path)
    assert found.security_token == "sts"
    assert "ALIBABA_CLOUD_SECURITY_TOKEN" in found.source


@pytest.mark.parametrize("missing", sorted(ENV))
def test_half_an_environment_key_pair_is_fatal(tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(FatalError, match=missing):
        load_credentials(env=env, home=tmp_path)


def test_empty_environment_variables_count_as_unset(tmp_path: Path) -> None:
    path = write_config(tmp_path, [ak("default")])
    env = {k: "" for k in ENV}
    found = load_credentials(env=env, home=tmp_path)
    assert found.access_key_id == "cli-id"
    assert found.source == f"aliyun CLI profile 'default' in {path}"


def test_the_current_cli_profile_is_used(tmp_path: Path) -> None:
    write_config(tmp_path, [ak("default"), ak("work", "work-id")], current="work")
    assert load_credentials(env={}, home=tmp_path).access_key_id == "work-id"


def test_the_profile_environment_variable_beats_current(tmp_path: Path) -> None:
    write_config(tmp_path, [ak("default"), ak("work", "work-id")])
    found = load_credentials(env={"ALIBABA_CLOUD_PROFILE": "work"}, home=tmp_path)
    assert found.access_key_id == "work-id"


def test_a_requested_profile_beats_environment_keys(tmp_path: Path) -> None:
    write_config(tmp_path, [ak("default"), ak("work", "work-id"), ak("ci", "ci-id")])
    env = {**ENV, "ALIBABA_CLOUD_PROFILE": "work"}
    found = load_credentials(profile="ci", env=env, home=tmp_path)
    assert found.access_key_id == "ci-id"
    assert "'ci'" in found.source


def test_an_sts_token_profile_carries_its_token(tmp_path: Path) -> None:
    profile = {**ak("default"), "mode": "StsToken", "sts_token": "cli-token"}
    write_config(tmp_path, [profile])
    assert load_credentials(env={}, home=tmp_path).security_token == "cli-token"


def test_an_sts_token_profile_without_a_token_is_fatal(tmp_path: Path) -> None:
    write_config(tmp_path, [{**ak("default"), "mode": "StsToken"}])
    with pytest.raises(FatalError, match="sts_token"):
        load_credentials(env={}, home=tmp_path)


@pytest.mark.parametrize("mode", ["RamRoleArn", "EcsRamRole", "OIDC", None])
def test_other_modes_are_refused_naming_the_supported_ones(tmp_path: Path, mode: str) -> None:
    write_config(tmp_path, [{**ak("default"), "mode": mode}])
    with pytest.raises(FatalError, match="supports the modes AK and StsToken"):
        load_credentials(env={}, home=tmp_path)


def test_an_ak_profile_without_a_secret_is_fatal(tmp_path: Path) -> None:
    write_config(tmp_path, [ak("default", secret="")])
    with pytest.raises(FatalError, match="access_key_secret"):
        load_credentials(env={}, home=tmp_path)


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    write_config(tmp_path, [ak("default"), ak("work")])
    with pytest.raises(FatalError, match=r"no aliyun CLI profile 'prod'.*'default', 'work'"):
        load_credentials(profile="prod", env={}, home=tmp_path)


def test_a_broken_config_file_names_the_place(tmp_path: Path) -> None:
    path = tmp_path / ".aliyun" / "config.json"
    path.parent.mkdir()
    path.write_text('{"current": "default",\n "profiles": [}', encoding="utf-8")
    with pytest.raises(FatalError, match=r"config\.json:2:"):
        load_credentials(env={}, home=tmp_path)


def test_nothing_configured_says_exactly_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(FatalError) as caught:
        load_credentials(env={}, home=tmp_path)
    message = str(caught.value)
    for needed in (
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "aliyun configure",
    ):
        assert needed in message


def test_a_requested_profile_without_a_config_file_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="'work' requested"):
        load_credentials(profile="work", env=ENV, home=tmp_path)


def test_repr_and_str_never_show_the_secret_or_token() -> None:
    found = Credentials("my-id", "my-secret", "my-token", source="environment")
    for shown in (repr(found), str(found), f"{found}", repr([found])):
        assert "my-secret" not in shown
        assert "my-token" not in shown
        assert "my-id" in shown
