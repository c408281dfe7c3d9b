"""`voxform url ID`: a presigned GET URL that the emulator serves, until it expires or is
tampered with; never the secret in it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import Runner, one_error
from e2e.conftest import Emulator


@pytest.fixture
def applied(
    emulator: Emulator, ice_project: Path, voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str, Path]:
    url, storage = emulator("--synthesis", "silence", "--latency", "0")
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", url)
    monkeypatch.setenv("VOXFORM_OSS_ENDPOINT", url)
    assert voxform(ice_project, "apply", "--yes").exit_code == 0
    return ice_project, url, storage


def link(voxform: Runner, root: Path, *args: str) -> str:
    result = voxform(root, "url", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_the_url_gets_the_object_and_a_tampered_one_is_refused(
    applied: tuple[Path, str, Path], voxform: Runner
) -> None:
    root, _, storage = applied
    shared = link(voxform, root, "notes/notes/p2")
    audio = (storage / "my-audio/course/intro/notes/notes/p2.mp3").read_bytes()
    answer = httpx.get(shared, timeout=10)
    assert answer.status_code == 200 and answer.content == audio
    query = parse_qs(urlsplit(shared).query)
    assert query["x-oss-expires"] == ["3600"]
    assert query["x-oss-credential"][0].startswith("testid/")
    assert "testsecret" not in shared

    tampered = shared.replace("notes/p2.mp3", "notes/p3.mp3")
    refused = httpx.get(tampered, timeout=10)
    assert refused.status_code == 403 and b"SignatureDoesNotMatch" in refused.content
    longer = shared.replace("x-oss-expires=3600", "x-oss-expires=7200")
    assert httpx.get(longer, timeout=10).status_code == 403

    document = json.loads(voxform(root, "url", "tip", "--expires", "60", "--json").stdout)
    assert document["id"] == "tip" and document["expires"] == 60
    assert httpx.get(document["url"], timeout=10).status_code == 200


def test_an_expired_url_is_refused(
    applied: tuple[Path, str, Path], emulator: Emulator, voxform: Runner
) -> None:
    root, _, storage = applied
    shared = link(voxform, root, "welcome", "--expires", "60")
    later, _ = emulator("--storage", str(storage), "--clock-offset", "120")
    moved = shared.replace(urlsplit(shared).netloc, urlsplit(later).netloc)
    refused = httpx.get(moved, timeout=10)
    assert refused.status_code == 403 and b"expired" in refused.content


def test_an_sts_token_travels_in_the_url_and_the_secret_never_does(
    applied: tuple[Path, str, Path], voxform: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, _ = applied
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "the-sts-token")
    shared = link(voxform, root, "welcome")
    assert parse_qs(urlsplit(shared).query)["x-oss-security-token"] == ["the-sts-token"]
    assert "testsecret" not in shared


def test_unknown_local_and_unfinished_items_get_a_clear_error(
    ice_project: Path, quickstart: Path, voxform: Runner, tmp_path: Path
) -> None:
    one_error(voxform(ice_project, "url", "welcom"), "no item 'welcom'", "did you mean 'welcome'")
    one_error(voxform(ice_project, "url", "welcome"), "not finished", "apply")
    one_error(voxform(quickstart, "url", "welcome"), "local target", "no URL")
    result = voxform(ice_project, "url", "welcome", "--expires", str(8 * 24 * 3600))
    assert result.exit_code == 2 and "604800" in result.output
