"""Alibaba Cloud access keys from the environment or the aliyun CLI's config file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voxform.errors import FatalError

ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
ENV_PROFILE = "ALIBABA_CLOUD_PROFILE"
SUPPORTED_MODES = ("AK", "StsToken")

HOW_TO_CONFIGURE = (
    f"set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} (plus {ENV_SECURITY_TOKEN} for STS"
    " credentials), or run `aliyun configure` to create an AK profile in ~/.aliyun/config.json"
)


@dataclass(frozen=True)
class Credentials:
    """An access key pair (and STS token), with where it came from; repr hides the secrets."""

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(repr=False)
    source: str

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
    names = ENV_ACCESS_KEY_ID + (f", {ENV_SECURITY_TOKEN}" if token else "")
    return Credentials(key_id, secret, token, source=f"environment ({names})")


def _from_cli_config(path: Path, wanted: str | None) -> Credentials:
    """Credentials from one profile of the aliyun CLI's config.json."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise FatalError(
            f"{path}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})"
        ) from None
    except OSError as error:
        raise FatalError(f"cannot read {path}: {error.strerror}") from None
    profiles = config.get("profiles") if isinstance(config, dict) else None
    if not isinstance(profiles, list):
        raise FatalError(f'{path} has no "profiles" list; {HOW_TO_CONFIGURE}')
    name = wanted or str(config.get("current") or "default")
    by_name = {p.get("name"): p for p in profiles if isinstance(p, dict)}
    chosen = by_name.get(name)
    if chosen is None:
        known = ", ".join(repr(n) for n in by_name if isinstance(n, str)) or "none"
        raise FatalError(f"no aliyun CLI profile {name!r} in {path} (profiles: {known})")
    where = f"aliyun CLI profile {name!r} in {path}"
    mode = chosen.get("mode")
    if mode not in SUPPORTED_MODES:
        raise FatalError(
            f"{where} has mode {mode!r}; voxform supports the modes "
            f"{' and '.join(SUPPORTED_MODES)} only (or {HOW_TO_CONFIGURE})"
        )
    needed = ["access_key_id", "access_key_secret"] + (["sts_token"] if mode == "StsToken" else [])
    values = {key: chosen.get(key) for key in needed}
    empty = [key for key, value in values.items() if not isinstance(value, str) or not value]
    if empty:
        raise FatalError(f"{where} (mode {mode}) has no {', '.join(empty)}")
    return Credentials(
        access_key_id=str(values["access_key_id"]),
        access_key_secret=str(values["access_key_secret"]),
        security_token=str(values["sts_token"]) if mode == "StsToken" else None,
        source=where,
    )
