"""docs/ram-policy.json grants what voxform calls, and nothing else: every OSS operation the
OSS client sends and every ICE action the ICE client calls, read from their source, maps to
an action of the policy, and every action of the policy is needed by one of them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import voxform.ice.wire as wire
import voxform.providers.ice_client as ice_client
import voxform.providers.oss_client as oss_client

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "docs" / "ram-policy.json"
# The RAM actions that authorize each OSS operation (OSS's "authorization syntax and
# elements"): HeadObject is a GetObject; a copy reads its source and writes its destination.
RAM_ACTIONS = {
    "HeadObject": {"oss:GetObject"},
    "GetObject": {"oss:GetObject"},
    "PutObject": {"oss:PutObject"},
    "CopyObject": {"oss:GetObject", "oss:PutObject"},
    "DeleteObject": {"oss:DeleteObject"},
    "DeleteMultipleObjects": {"oss:DeleteObject"},
    "ListObjectsV2": {"oss:ListObjects"},
}


def first_arguments(module: object, method: str) -> list[ast.expr]:
    """The first argument of every `self.<method>(...)` call in `module`'s source."""
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text("utf-8"))
    return [
        node.args[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
        and node.args
    ]


def oss_operations() -> set[str]:
    found = first_arguments(oss_client, "_send")
    assert found, "no OSS call found: has the client's sending method been renamed?"
    for node in found:  # a name in a variable would hide an operation from this test
        assert isinstance(node, ast.Constant) and isinstance(node.value, str), ast.dump(node)
    return {str(node.value) for node in found if isinstance(node, ast.Constant)}


def ice_actions() -> set[str]:
    found = first_arguments(ice_client, "call")
    assert found, "no ICE call found: has the client's calling method been renamed?"
    actions = set()
    for node in found:
        assert isinstance(node, ast.Name), ast.dump(node)  # a constant of voxform.ice.wire
        actions.add(str(getattr(wire, node.id)))
    return actions


def policy() -> dict[str, object]:
    document = json.loads(POLICY.read_text("utf-8"))
    assert isinstance(document, dict)
    return document


def test_the_policy_is_ram_policy_syntax_version_1() -> None:
    document = policy()
    assert set(document) == {"Version", "Statement"} and document["Version"] == "1"
    statements = document["Statement"]
    assert isinstance(statements, list) and statements
    for statement in statements:
        assert set(statement) == {"Effect", "Action", "Resource"}
        assert statement["Effect"] == "Allow"
        assert statement["Action"] and statement["Resource"]
        for action in statement["Action"]:
            service = action.partition(":")[0]
            for resource in statement["Resource"]:  # ICE's actions on "*", OSS's on the bucket
                if service == "ice":
                    assert resource == "*"
                elif action == "oss:ListObjects":  # a bucket-level action
                    assert resource == "acs:oss:*:*:BUCKET"
                else:  # object-level: the target's prefix only
                    assert resource == "acs:oss:*:*:BUCKET/PREFIX*"


def test_the_policy_names_every_action_voxform_calls_and_no_other() -> None:
    operations = oss_operations()
    assert operations == set(RAM_ACTIONS), (
        "the OSS client's operations changed: map each new one to its RAM actions here and"
        " grant them in docs/ram-policy.json (and the README's RAM paragraph)"
    )
    needed = {f"ice:{action}" for action in ice_actions()}
    assert needed == {"ice:SubmitAudioProduceJob", "ice:GetSmartHandleJob", "ice:ListSmartJobs"}
    for operation in operations:
        needed |= RAM_ACTIONS[operation]
    statements = policy()["Statement"]
    assert isinstance(statements, list)
    granted = [action for statement in statements for action in statement["Action"]]
    assert len(granted) == len(set(granted))  # each action once
    assert set(granted) == needed


def test_the_readme_links_the_policy() -> None:
    assert "(docs/ram-policy.json)" in (ROOT / "README.md").read_text("utf-8")
