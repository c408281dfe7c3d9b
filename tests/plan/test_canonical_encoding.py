"""Fingerprints and lockfile digests are the bytes voxform always wrote: they are built
from encodings made once per voice and target, and must equal json.dumps of the whole."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Runner
from voxform.digest import digest
from voxform.endpoints import endpoint_identity
from voxform.ice.wire import AudioRequest, EditingConfig
from voxform.manifest.model import Target
from voxform.plan.fingerprint import audio_digest, fingerprint, prints_of
from voxform.project import load_project
from voxform.render.inputs import core_digests, item_digests
from voxform.render.model import RenderedItem

RECORDED = Path(__file__).parent / "fixtures" / "recorded"

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
names = st.one_of(st.none(), text, st.sampled_from(["\0object 0\0", '"\\u0000object 0\\u0000"']))


def test_a_lockfile_written_before_plans_no_changes(tmp_path: Path, voxform: Runner) -> None:
    # voxform.lock was written by the code before encodings were made once per voice and
    # target (a finished apply of every item): nothing may read as changed.
    root = shutil.copytree(RECORDED, tmp_path / "p")
    result = voxform(root, "plan", "--json")
    summary = json.loads(result.output)["summary"]
    assert (summary["unchanged"], summary["create"], summary["update"]) == (13, 0, 0)
    (root / "texts" / "notes.txt").write_text("A new sentence.\n", "utf-8")
    summary = json.loads(voxform(root, "plan", "--json").output)["summary"]
    assert summary["unchanged"] == 7  # the check can fail


@pytest.fixture(scope="module")
def recorded_item(tmp_path_factory: pytest.TempPathFactory) -> RenderedItem:
    """The recorded project's first item, loaded once (the examples vary only its request),
    from a copy: loading a project writes its caches, and tests may run side by side."""
    root = tmp_path_factory.mktemp("recorded") / "p"
    shutil.copytree(RECORDED, root, ignore=shutil.ignore_patterns(".voxform"))
    return load_project(root).rendered[0]


def _spec_fingerprint(
    editing: EditingConfig, spelt: str, output: str, provider: str, engine: str | None
) -> str:
    canonical = {
        "editing": editing.to_wire(),
        "engine": engine,
        "input": spelt,
        "output": output,
        "provider": provider,
        "version": 1,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@given(
    spelt=text,
    output=text,
    provider=text,
    engine=st.one_of(st.none(), text),
    voice=st.one_of(st.none(), text),
    custom=st.one_of(st.none(), text),
    volume=st.integers(0, 100),
)
def test_a_fingerprint_is_json_dumps_of_its_inputs(
    spelt: str,
    output: str,
    provider: str,
    engine: str | None,
    voice: str | None,
    custom: str | None,
    volume: int,
    recorded_item: RenderedItem,
) -> None:
    rendered = recorded_item
    editing = EditingConfig(voice, custom, "wav", volume, -3, 7)
    item = replace(
        rendered,
        request=replace(rendered.request, input=spelt, editing=editing),
        digests={**rendered.digests, "output": output},
    )
    assert fingerprint(item, provider, engine) == _spec_fingerprint(
        editing, spelt, output, provider, engine
    )
    assert prints_of(item, provider, engine) == (
        fingerprint(item, provider, engine),
        audio_digest(item, provider, engine),
    )


@given(
    spelt=text,
    provider=text,
    engine=st.one_of(st.none(), text),
    voice=st.one_of(st.none(), text),
    rate=st.sampled_from([8000, 16000, 24000, 48000]),
)
def test_an_audio_digest_is_json_dumps_of_its_inputs(
    spelt: str,
    provider: str,
    engine: str | None,
    voice: str | None,
    rate: int,
    recorded_item: RenderedItem,
) -> None:
    rendered = recorded_item
    editing = EditingConfig(voice, None, "mp3", 50, 0, 0)
    item = replace(
        rendered, request=replace(rendered.request, input=spelt, editing=editing, sample_rate=rate)
    )
    canonical = {
        "audio": 1,
        "editing": editing.to_wire(),
        "engine": engine,
        "input": spelt,
        "provider": provider,
        "sample_rate": rate,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = "sha256:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    assert audio_digest(item, provider, engine) == expected
    assert prints_of(item, provider, engine)[1] == expected


def _spec_output_digests(target: Target, request: AudioRequest) -> tuple[str, str]:
    place: dict[str, object] = {
        "provider": target.provider,
        "path": target.path,
        "bucket": target.bucket,
        "region": target.region,
        "object": request.object_key,
    }
    if target.endpoint is not None:
        place["endpoint"] = endpoint_identity(target.endpoint)
    encoded = {**place, "format": request.editing.format, "sample_rate": request.sample_rate}

    def dumps(document: dict[str, object]) -> str:
        return json.dumps(document, sort_keys=True, separators=(",", ":"))

    return digest(dumps(encoded)), digest(dumps(place))


@given(
    path=names,
    bucket=names,
    region=names,
    endpoint=st.sampled_from([None, "https://ice.cn-beijing.aliyuncs.com", "http://127.0.0.1:9"]),
    key=text,
    template=text,
    sample_rate=st.sampled_from([8000, 16000, 48000]),
)
def test_output_digests_are_json_dumps_of_the_place(
    path: str | None,
    bucket: str | None,
    region: str | None,
    endpoint: str | None,
    key: str,
    template: str,
    sample_rate: int,
) -> None:
    target = Target("t", "ice", path=path, region=region, bucket=bucket, endpoint=endpoint)
    request = AudioRequest("i", "<speak/>", EditingConfig("siqi", None, "wav"), sample_rate, key)
    core = core_digests("a", "b", "c", target, request, template)
    digests = item_digests(core, target, request, template)
    assert (digests["output"], digests["location"]) == _spec_output_digests(target, request)
    assert (digests["format"], digests["sample_rate"]) == ("wav", str(sample_rate))
