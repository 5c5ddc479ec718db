"""``resources/sync-table.yaml``: cfn-lint finds nothing in it, it creates the table ``sync init`` creates,
its policies hold exactly the statements ``sync init`` prints, and it ships with the application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cfnlint.api
import pytest
from cfnlint.decode import decode_str

from drs_desktop.aws.sync_schema import (
    INIT_SID,
    KEY_SCHEMA,
    RUNTIME_SID,
    TABLE_TAGS,
    check_table_name,
    least_privilege_policy,
)
from drs_desktop.config import resource_path
from drs_desktop.domain.sync_errors import SyncTargetError

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "resources" / "sync-table.yaml"
TABLE_ARN = {"Fn::GetAtt": ["SyncTable", "Arn"]}


def _lint(text: str) -> list[str]:
    """Every cfn-lint finding (errors, warnings) on ``text``, as ``rule: message``."""
    matches = cfnlint.api.lint(text, config=cfnlint.api.ManualArgs(regions=["us-east-1", "eu-west-1"]))
    return [f"{m.rule.id} ({m.rule.severity}) line {m.linenumber}: {m.message}" for m in matches]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, errors = decode_str(TEMPLATE.read_text(encoding="utf-8"))
    assert not errors and decoded is not None
    return dict(decoded)


def test_cfn_lint_finds_nothing_in_the_template() -> None:
    assert _lint(TEMPLATE.read_text(encoding="utf-8")) == []


def test_cfn_lint_is_really_looking() -> None:
    """The same check on a spoiled copy: a billing mode that does not exist, an IAM action that does not."""
    spoiled = TEMPLATE.read_text(encoding="utf-8")
    spoiled = spoiled.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: ON_DEMAND")
    spoiled = spoiled.replace("- dynamodb:Query", "- dynamodb:TransactWriteItems")
    found = " ".join(_lint(spoiled))
    assert "ON_DEMAND" in found and "transactwriteitems" in found


def test_the_template_creates_the_table_init_creates(template: dict[str, Any]) -> None:
    table = template["Resources"]["SyncTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    properties = table["Properties"]
    assert [(k["AttributeName"], k["KeyType"]) for k in properties["KeySchema"]] == list(KEY_SCHEMA)
    assert {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "S",
    }
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "GlobalSecondaryIndexes" not in properties and "LocalSecondaryIndexes" not in properties
    assert [(t["Key"], t["Value"]) for t in properties["Tags"]] == list(TABLE_TAGS)
    assert properties["TableName"] == {"Ref": "TableName"}


def test_the_table_name_parameter_is_optional_and_checked_as_init_checks_it(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["TableName"]
    default = parameter["Default"]
    assert check_table_name(default) == default
    pattern = parameter["AllowedPattern"]
    assert pattern == "[A-Za-z0-9_.-]{3,255}"
    with pytest.raises(SyncTargetError):
        check_table_name("no")  # too short for the pattern too


def test_the_template_policies_are_the_statements_init_prints(template: dict[str, Any]) -> None:
    printed = {
        s["Sid"]: s for s in least_privilege_policy("arn:aws:dynamodb:us-east-1:1:table/t")["Statement"]
    }
    resources = template["Resources"]
    for name, sid in (("OperatorPolicy", RUNTIME_SID), ("InitPolicy", INIT_SID)):
        policy = resources[name]
        assert policy["Type"] == "AWS::IAM::ManagedPolicy"
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Sid"] == sid
        assert statement["Effect"] == printed[sid]["Effect"] == "Allow"
        assert statement["Action"] == printed[sid]["Action"]
        assert statement["Resource"] == TABLE_ARN


def test_the_outputs_name_the_table_and_the_policies(template: dict[str, Any]) -> None:
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert outputs == {
        "TableName": {"Ref": "SyncTable"},
        "TableArn": TABLE_ARN,
        "OperatorPolicyArn": {"Ref": "OperatorPolicy"},
        "InitPolicyArn": {"Ref": "InitPolicy"},
    }


def test_the_template_ships_with_the_application() -> None:
    """The source distribution grafts resources/, the wheel and the bundle copy it as
    drs_desktop/resources (setup.py, build.spec): the app finds it through ``resource_path``."""
    assert resource_path("sync-table.yaml").read_bytes() == TEMPLATE.read_bytes()
    assert "graft resources" in (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    assert '(str(ROOT / "resources"), "drs_desktop/resources")' in (ROOT / "build.spec").read_text(
        encoding="utf-8"
    )
