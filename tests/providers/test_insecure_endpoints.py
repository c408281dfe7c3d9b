"""The access key never travels in clear by accident, and an endpoint never moves unseen.

Plain http is for this machine (the emulator): to any other host validate refuses it at the
target's `endpoint:`, and the client refuses it from VOXFORM_ICE_ENDPOINT before any request,
unless the target says `insecure: true`, which plan then says. A target's endpoint (and its
region) is part of what plan compares, so pointing main's apply elsewhere shows as a change;
VOXFORM_ICE_ENDPOINT, which points a run at an emulator, is not.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from conftest import Runner, one_error, write_files
from providers.conftest import ICE_MANIFEST, HostileIce
from voxform.errors import FatalError
from voxform.providers.ice_client import endpoint_for

TARGET = "oss: {provider: ice, region: cn-shanghai, bucket: my-audio, prefix: course/}"


def with_target(root: Path, settings: str) -> None:
    """The ICE target of ICE_MANIFEST with `settings` added to it."""
    manifest = root / "voxform.yaml"
    text = manifest.read_text()
    assert TARGET in text
    manifest.write_text(text.replace(TARGET, TARGET.replace("}", f", {settings}}}")))


def validated(voxform: Runner, root: Path) -> tuple[int, dict]:
    result = voxform(root, "validate", "--json")
    return result.exit_code, json.loads(result.stdout)


def plan(voxform: Runner, root: Path) -> dict:
    result = voxform(root, "plan", "--json")
    assert result.exit_code == 0, result.output
    return {c["id"]: c for c in json.loads(result.stdout)["changes"]}


# --- validate: the endpoint in the manifest --------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    ["http://10.0.0.5:8080", "http://ice.example.com", "http://127.0.0.1.nip.io", "http://0.0.0.0"],
)
def test_a_plain_http_endpoint_to_another_host_is_refused_at_the_endpoint(
    ice_project: Path, voxform: Runner, endpoint: str
) -> None:
    with_target(ice_project, f"endpoint: '{endpoint}'")

    code, report = validated(voxform, ice_project)

    assert code == 1
    errors = [e for e in report["errors"] if e["rule"] == "insecure-endpoint"]
    assert len(errors) == 1, report
    line = ice_project.joinpath("voxform.yaml").read_text().splitlines()[3]
    assert (errors[0]["line"], errors[0]["column"]) == (4, line.index("'http") + 1)
    assert "target 'oss' is plain http to" in errors[0]["message"]
    assert "insecure: true" in errors[0]["message"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8765",
        "http://127.3.4.5",
        "http://localhost:8765",
        "http://LOCALHOST:8765",
        "http://[::1]:8765",
        "https://10.0.0.5:8443",
        "https://ice-vpc.cn-shanghai.aliyuncs.com",
    ],
)
def test_https_anywhere_and_plain_http_to_this_machine_are_valid(
    ice_project: Path, voxform: Runner, endpoint: str
) -> None:
    with_target(ice_project, f"endpoint: '{endpoint}'")

    code, report = validated(voxform, ice_project)

    assert (code, report["errors"]) == (0, [])


def test_insecure_true_accepts_plain_http_and_plan_says_so(
    ice_project: Path, voxform: Runner
) -> None:
    with_target(ice_project, "endpoint: 'http://10.0.0.5:8080', insecure: true")

    code, report = validated(voxform, ice_project)
    planned = voxform(ice_project, "plan")

    assert (code, report["errors"]) == (0, [])
    assert len(report["warnings"]) == 1, report
    warning = report["warnings"][0]["message"]
    assert "target 'oss' has insecure: true" in warning and "10.0.0.5 unencrypted" in warning
    assert planned.exit_code == 0, planned.output
    assert "warning:" in planned.output and "target 'oss' has insecure: true" in planned.output


def test_insecure_is_a_boolean_of_ice_targets_only(
    project: Callable[[dict[str, str]], Path], voxform: Runner
) -> None:
    root = project(
        {
            "voxform.yaml": """
                version: 1
                targets:
                  local: {provider: local, path: build/audio, insecure: true}
                  oss: {provider: ice, bucket: my-audio, insecure: 'yes'}
                voices: {n: {voice: siqi}}
                items: [{id: a, text: Hi., voice: n, target: local}]
            """
        }
    )

    code, report = validated(voxform, root)

    assert code == 1
    assert sorted(e["line"] for e in report["errors"] if e["rule"] == "schema") == [3, 4], report


# --- the client: VOXFORM_ICE_ENDPOINT too, before any request ---------------------------------


def this_machine_on_the_network() -> str | None:
    """An address of this machine that is not loopback (no packet is sent to learn it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


class NetworkIce(HostileIce):
    """The stand-in, listening on this machine's network address instead of loopback: a
    request to it leaves the loopback interface, as one to another machine would."""

    address = "127.0.0.1"

    def server_bind(self) -> None:
        self.server_address = (self.address, 0)
        super().server_bind()


@pytest.fixture
def network_ice(hostile: HostileIce, monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkIce]:
    """NetworkIce named by VOXFORM_ICE_ENDPOINT (the credentials come from `hostile`)."""
    address = this_machine_on_the_network()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    NetworkIce.address = address
    server = NetworkIce()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", f"http://{address}:{server.server_address[1]}")
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def apply(voxform: Runner, root: Path) -> Result:
    return voxform(root, "apply", "--yes")


def test_a_plain_http_endpoint_from_the_environment_is_refused_before_any_request(
    network_ice: NetworkIce, ice_project: Path, voxform: Runner
) -> None:
    result = apply(voxform, ice_project)

    one_error(result, "ICE endpoint 'http://", "is plain http to", "insecure: true")
    assert network_ice.calls == []
    assert not (ice_project / "voxform.lock").exists()


def test_insecure_true_lets_the_environment_endpoint_through(
    network_ice: NetworkIce, ice_project: Path, voxform: Runner
) -> None:
    with_target(ice_project, "insecure: true")

    result = apply(voxform, ice_project)

    assert result.exit_code == 0, result.output
    assert network_ice.actions()[0] == "SubmitAudioProduceJob"


@pytest.mark.parametrize(
    "url",
    ["http://10.1.2.3", "http://example.com:80/", "http://127.1", "http://2130706433"],
)
def test_the_client_refuses_plain_http_off_this_machine_unless_insecure(url: str) -> None:
    with pytest.raises(FatalError, match=r"is plain http to .*, which is not this machine"):
        endpoint_for(url)
    assert endpoint_for(url, insecure=True).startswith("http://")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1", "http://localhost", "http://[::1]:2", "https://10.1.2.3"]
)
def test_the_client_takes_https_and_plain_http_to_this_machine(url: str) -> None:
    assert endpoint_for(url) == url


# --- plan: the endpoint is part of what it compares -------------------------------------------


def applied(voxform: Runner, root: Path) -> None:
    result = apply(voxform, root)
    assert result.exit_code == 0, result.output
    assert plan(voxform, root) == {}


def test_setting_an_endpoint_plans_a_change(
    hostile: HostileIce, ice_project: Path, voxform: Runner
) -> None:
    applied(voxform, ice_project)
    with_target(ice_project, "endpoint: 'https://ice.example.net'")

    assert plan(voxform, ice_project)["welcome"]["reasons"] == ["output location changed"]


def test_changing_the_endpoint_names_old_and_new(
    hostile: HostileIce, ice_project: Path, voxform: Runner
) -> None:
    with_target(ice_project, "endpoint: 'https://a.example'")
    applied(voxform, ice_project)
    manifest = ice_project / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("https://a.example", "https://b.example"))

    change = plan(voxform, ice_project)["welcome"]

    assert change["action"] == "update"
    assert "endpoint https://a.example -> https://b.example" in change["reasons"]


def test_a_region_change_plans_a_change(
    hostile: HostileIce, ice_project: Path, voxform: Runner
) -> None:
    applied(voxform, ice_project)
    manifest = ice_project / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("cn-shanghai", "cn-beijing"))

    assert plan(voxform, ice_project)["welcome"]["action"] == "update"


def test_an_endpoint_spelt_another_way_is_the_same_endpoint(
    hostile: HostileIce, ice_project: Path, voxform: Runner
) -> None:
    with_target(ice_project, "endpoint: 'https://Ice.Example.net/'")
    applied(voxform, ice_project)
    manifest = ice_project / "voxform.yaml"
    manifest.write_text(manifest.read_text().replace("Ice.Example.net/", "ice.example.net"))

    assert plan(voxform, ice_project) == {}


def test_voxform_ice_endpoint_is_not_a_change(
    hostile: HostileIce,
    ice_project: Path,
    voxform: Runner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied(voxform, ice_project)
    monkeypatch.setenv("VOXFORM_ICE_ENDPOINT", "http://127.0.0.1:1")

    assert plan(voxform, ice_project) == {}


def test_without_an_endpoint_the_output_digest_is_the_one_lockfiles_already_hold(
    tmp_path: Path,
) -> None:
    """The recipe every lockfile written before endpoints counted used: no `endpoint` key,
    so upgrading plans no changes."""
    from voxform.project import load_project

    root = write_files(tmp_path, {"voxform.yaml": ICE_MANIFEST})
    place = {
        "bucket": "my-audio",
        "object": "course/welcome",
        "path": None,
        "provider": "ice",
        "region": "cn-shanghai",
    }
    encoded = {**place, "format": "mp3", "sample_rate": 16000}

    def recipe(document: dict[str, object]) -> str:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    digests = load_project(root).rendered[0].digests
    assert (digests["output"], digests["location"]) == (recipe(encoded), recipe(place))
    assert "endpoint" not in digests
