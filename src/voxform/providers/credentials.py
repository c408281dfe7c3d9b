"""Alibaba Cloud access keys from the environment or the aliyun CLI's config file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voxform.errors import FatalError
from voxform.reading import FileTooLargeError, read_regular
from voxform.state.jsonfile import JsonProblem, describe, load_json

ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
ENV_PROFILE = "ALIBABA_CLOUD_PROFILE"
SUPPORTED_MODES = ("AK", "StsToken")

HOW_TO_CONFIGURE = (
    f"set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} (plus {ENV_SECURITY_TOKEN} for STS"
    " credentials), or run `aliyun configure` to create an AK profile in ~/.aliyun/config.json"
)


def check_credential(name: str, value: str) -> None:
    """FatalError unless `value` can travel in an HTTP header as it is: printable ASCII with
    no space. Says what is wrong and where, never the value (it may be a secret)."""
    for index, char in enumerate(value):
        if "!" <= char <= "~":
            continue
        if char in "\r\n":
            what = "a line break"
        elif char == " ":
            what = "a space"
        elif not char.isascii():
            what = "a non-ASCII character"
        else:
            what = "a control character"
        raise FatalError(
            f"{name} contains {what} (character {index + 1} of {len(value)}): access keys and"
            " tokens are printable ASCII without spaces; check how it was set"
        )
    if not value:
        raise FatalError(f"{name} is empty")


@dataclass(frozen=True)
class Credentials:
    """An access key pair (and STS token), with where it came from; repr hides the secrets.
    Made only of values that can be sent (FatalError otherwise, before any request)."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(repr=False)
    source: str

    def __post_init__(self) -> None:
        check_credential(f"the access key id from {self.source}", self.access_key_id)
        check_credential(f"the access key secret from {self.source}", self.access_key_secret)
        if self.security_token is not None:
            check_credential(f"the security token from {self.source}", self.security_token)

    def __repr__(self) -> str:
        token = ", security_token=<set>" if self.security_token else ""
        return f"Credentials(access_key_id={self.access_key_id!r}{token}, source={self.source!r})"


def load_credentials(
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Credentials:
    """Environment variables first (unless a profile is named), then the aliyun CLI profile."""
    env = os.environ if env is None else env
    if profile is None:
        from_env = _from_environment(env)
        if from_env is not None:
            return from_env
    config = (Path.home() if home is None else home) / ".aliyun" / "config.json"
    wanted = profile or env.get(ENV_PROFILE) or None
    if not config.is_file():
        if wanted:
            raise FatalError(
                f"aliyun CLI profile {wanted!r} requested, but {config} does not exist"
            )
        raise FatalError(f"no Alibaba Cloud credentials found: {HOW_TO_CONFIGURE}")
    return _from_cli_config(config, wanted)


def _from_environment(env: Mapping[str, str]) -> Credentials | None:
    """Credentials from the ALIBABA_CLOUD_* variables, None when neither key variable is set."""
    key_id = env.get(ENV_ACCESS_KEY_ID, "").strip()
    secret = env.get(ENV_ACCESS_KEY_SECRET, "").strip()
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        missing = ENV_ACCESS_KEY_SECRET if key_id else ENV_ACCESS_KEY_ID
        present = ENV_ACCESS_KEY_ID if key_id else ENV_ACCESS_KEY_SECRET
        raise FatalError(f"{present} is set but {missing} is not: set both")
    token = env.get(ENV_SECURITY_TOKEN, "").strip() or None
    check_credential(ENV_ACCESS_KEY_ID, key_id)
    check_credential(ENV_ACCESS_KEY_SECRET, secret)
    if token is not None:
        check_credential(ENV_SECURITY_TOKEN, token)
    names = ENV_ACCESS_KEY_ID + (f", {ENV_SECURITY_TOKEN}" if token else "")
    return Credentials(key_id, secret, token, source=f"environment ({names})")


def _from_cli_config(path: Path, wanted: str | None) -> Credentials:
    """Credentials from one profile of the aliyun CLI's config.json."""
    try:
        config = load_json(read_regular(path, 1 << 20, "configuration file"))
    except JsonProblem as error:
        at = f":{error.line}:{error.column}" if error.line is not None else ""
        reason = error.reason.removeprefix("is ")
        raise FatalError(f"{path}{at}: {reason}") from None
    except OSError as error:  # also a FIFO or device in its place (UnsafeFileError)
        raise FatalError(f"cannot read {path}: {error.strerror or error}") from None
    except FileTooLargeError as error:
        raise FatalError(str(error)) from None
    if not isinstance(config, dict) or not isinstance(config.get("profiles"), list):
        raise FatalError(f'{path} has no "profiles" list; {HOW_TO_CONFIGURE}')
    profiles = config["profiles"]
    current = config.get("current") or "default"
    if not isinstance(current, str):
        raise FatalError(f"{path}: 'current' must be a profile name, not {describe(current)}")
    name = wanted or current
    by_name: dict[str, dict[str, object]] = {}
    for number, profile in enumerate(profiles, start=1):
        if not isinstance(profile, dict):
            continue
        if not isinstance(profile.get("name"), str):
            raise FatalError(
                f"{path}: profile {number} has a name that is not a string"
                f" ({describe(profile.get('name'))})"
            )
        by_name.setdefault(profile["name"], profile)
    chosen = by_name.get(name)
    if chosen is None:
        known = ", ".join(repr(n) for n in by_name) or "none"
        raise FatalError(f"no aliyun CLI profile {name!r} in {path} (profiles: {known})")
    where = f"aliyun CLI profile {name!r} in {path}"
    mode = chosen.get("mode")
    if mode not in SUPPORTED_MODES:
        raise FatalError(
            f"{where} has mode {describe(mode)}; voxform supports the modes "
            f"{' and '.join(SUPPORTED_MODES)} only (or {HOW_TO_CONFIGURE})"
        )
    needed = ["access_key_id", "access_key_secret"] + (["sts_token"] if mode == "StsToken" else [])
    values = {key: chosen.get(key) for key in needed}
    empty = [key for key, value in values.items() if not isinstance(value, str) or not value]
    if empty:
        raise FatalError(f"{where} (mode {mode}) has no {', '.join(empty)}")
    for key in needed:
        check_credential(f"{key} of {where}", str(values[key]))
    return Credentials(
        access_key_id=str(values["access_key_id"]),
        access_key_secret=str(values["access_key_secret"]),
        security_token=str(values["sts_token"]) if mode == "StsToken" else None,
        source=where,
    )
