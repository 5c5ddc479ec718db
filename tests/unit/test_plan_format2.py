"""Plan format 2: targets read, checked and written; reserved parts refused by name; format 1 unchanged."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drs_desktop.domain.errors import PlanDocumentError
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.document import FORMAT_V1, FORMAT_V2, plan_from_document, plan_to_document
from drs_desktop.domain.plan.document_v2 import RESERVED_PLAN_PARTS, RESERVED_STEP_KINDS
from drs_desktop.domain.plan.model import PlanTarget, ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import Severity, validate_plan
from drs_desktop.storage.planfile import dump_plan, parse_plan_text
from tests.strategies import valid_plans

A, B, C, D = "s-0123456789abcdef0", "s-0123456789abcdef1", "s-0123456789abcdef2", "s-0123456789abcdef3"


def v2_document() -> dict[str, Any]:
    """The format-2 example of docs/plan-format.md, as data."""
    return {
        "format": FORMAT_V2,
        "name": "Payments",
        "rpo_minutes": 15,
        "targets": [
            {"name": "stage-a", "account": "111111111111", "region": "us-east-1", "profile": "dr-stage-a"},
            {
                "name": "stage-b",
                "account": "222222222222",
                "region": "eu-west-1",
                "role_arn": "arn:aws:iam::222222222222:role/DrsDesktop",
                "source_profile": "dr-hub",
                "external_id": "payments-dr",
                "mfa_serial": "arn:aws:iam::999999999999:mfa/alice",
            },
        ],
        "protection_groups": [
            {"name": "db-a", "target": "stage-a", "servers": [A, B]},
            {"name": "web-b", "target": "stage-b", "tags": {"App": "payments"}},
        ],
        "waves": [
            {"name": "Databases", "groups": ["db-a"], "before": [{"approval": "DB team ready?"}]},
            {
                "name": "Web",
                "target": "stage-b",
                "groups": ["web-b"],
                "servers": [C, {"id": D, "target": "stage-a"}],
            },
        ],
    }


def problems_of(doc: object) -> list[tuple[str, str]]:
    with pytest.raises(PlanDocumentError) as caught:
        plan_from_document(doc)
    return caught.value.problems


def errors(plan: RecoveryPlan, inventory: Inventory | None = None) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in validate_plan(plan, inventory) if p.severity is Severity.ERROR]


# ------------------------------------------------------------------------------------------- round trips


def test_a_v2_document_reads_into_the_model_and_writes_back_identically() -> None:
    doc = v2_document()
    plan = plan_from_document(copy.deepcopy(doc))
    assert plan.targets[1] == PlanTarget(
        "stage-b",
        "222222222222",
        "eu-west-1",
        role_arn="arn:aws:iam::222222222222:role/DrsDesktop",
        source_profile="dr-hub",
        external_id="payments-dr",
        mfa_serial="arn:aws:iam::999999999999:mfa/alice",
    )
    assert plan.protection_groups[0].target == "stage-a"
    assert (plan.waves[1].target, dict(plan.waves[1].server_targets)) == ("stage-b", {D: "stage-a"})
    assert plan.waves[1].servers == (C, D)
    assert plan_to_document(plan) == doc
    assert json.dumps(plan_to_document(plan)) == json.dumps(doc)  # the same key order too
    assert errors(plan) == []


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_v2_file_round_trips_through_text(fmt: str) -> None:
    plan = plan_from_document(v2_document())
    text = dump_plan(plan, fmt)  # type: ignore[arg-type]
    assert FORMAT_V2 in text
    assert ("'111111111111'" if fmt == "yaml" else '"111111111111"') in text  # a string, quoted
    loaded = parse_plan_text(text, f"p.{fmt}")
    assert loaded.plan == plan
    assert dump_plan(loaded.plan, fmt) == text  # type: ignore[arg-type]


def test_a_plan_without_targets_is_written_as_version_1_exactly_as_before() -> None:
    v1 = {"format": FORMAT_V1, "name": "P", "waves": [{"name": "W", "servers": [A], "depends_on": []}]}
    plan = plan_from_document(copy.deepcopy(v1))
    assert plan_to_document(plan) == v1
    # A format-2 file that uses nothing of format 2 reads fine and is written in the canonical form, @1:
    # equal plans give equal documents (and equal content hashes in the database).
    assert plan_to_document(plan_from_document({**v1, "format": FORMAT_V2})) == v1


def test_a_plan_with_a_target_or_naming_one_is_written_as_version_2() -> None:
    plan = RecoveryPlan("P", waves=(Wave("W", servers=(A,)),))
    assert plan_to_document(plan)["format"] == FORMAT_V1
    with_target = RecoveryPlan(
        "P", waves=plan.waves, targets=(PlanTarget("t", "111111111111", "us-east-1", "p"),)
    )
    assert plan_to_document(with_target)["format"] == FORMAT_V2
    # An invalid plan naming an undeclared target still round-trips (the name is not dropped).
    dangling = RecoveryPlan("P", waves=(Wave("W", servers=(A,), target="nowhere"),))
    assert plan_to_document(dangling)["format"] == FORMAT_V2
    assert plan_from_document(plan_to_document(dangling)) == dangling


def _one_target(plan: RecoveryPlan, data: st.DataObject) -> RecoveryPlan:
    """``plan`` moved into one declared target, named on some groups and waves and not on others."""
    name = "prod-east"
    groups = tuple(
        ProtectionGroup(g.name, g.server_ids, g.tags, target=name if data.draw(st.booleans()) else None)
        for g in plan.protection_groups
    )
    waves = tuple(
        Wave(
            w.name,
            w.groups,
            w.servers,
            w.optional,
            w.depends_on,
            w.before,
            w.after,
            target=name if data.draw(st.booleans()) else None,
            server_targets={s: name for s in w.servers if data.draw(st.booleans())},
        )
        for w in plan.waves
    )
    target = PlanTarget(name, "123456789012", "eu-central-1", profile="dr")
    return RecoveryPlan(
        plan.name, plan.description, plan.rto_minutes, plan.rpo_minutes, groups, waves, targets=(target,)
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(valid_plans(), st.data())
def test_any_valid_plan_in_a_target_survives_the_document_and_json(
    plan: RecoveryPlan, data: st.DataObject
) -> None:
    moved = _one_target(plan, data)
    assert errors(moved) == []
    doc = plan_to_document(moved)
    assert doc["format"] == FORMAT_V2
    assert plan_from_document(json.loads(json.dumps(doc))) == moved
    assert plan_to_document(plan)["format"] == FORMAT_V1  # the plan it came from stays a format-1 plan


def test_the_documented_format_2_example_is_this_document() -> None:
    text = (Path(__file__).parents[2] / "docs" / "plan-format.md").read_text(encoding="utf-8")
    (block,) = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
        if FORMAT_V2 in b and re.search(r"^targets:", b, flags=re.MULTILINE)
    ]
    assert parse_plan_text(block, "doc.yaml").plan == plan_from_document(v2_document())


# ------------------------------------------------------------------------------------ reserved and refused


@pytest.mark.parametrize("key", sorted(RESERVED_PLAN_PARTS))
def test_a_reserved_part_is_refused_by_name_never_dropped(key: str) -> None:
    problems = problems_of({**v2_document(), key: {"anything": 1}})
    assert [path for path, _ in problems] == [key]
    message = problems[0][1]
    assert f"{key!r} ({RESERVED_PLAN_PARTS[key].what})" in message
    assert RESERVED_PLAN_PARTS[key].release in message and "refuses the file rather than drop it" in message


def test_a_null_reserved_part_is_the_same_as_leaving_it_out() -> None:
    assert plan_from_document({**v2_document(), "alerts": None}) == plan_from_document(v2_document())


@pytest.mark.parametrize("kind", sorted(RESERVED_STEP_KINDS))
def test_an_automation_step_kind_is_refused_by_name(kind: str) -> None:
    doc = v2_document()
    doc["waves"][0]["after"] = [{kind: {"port": 5432}}]
    problems = problems_of(doc)
    assert [path for path, _ in problems] == [f"waves[0].after[0].{kind}"]
    assert "automation steps" in problems[0][1] and "issue" not in problems[0][1]


def test_format_2_keys_in_a_format_1_file_ask_for_format_2() -> None:
    doc = v2_document()
    doc["format"] = FORMAT_V1
    problems = problems_of(doc)
    assert problems[0] == ("targets", f"'targets' is a key of format 2: write format: {FORMAT_V2} to use it")
    assert (
        "protection_groups[0].target",
        f"'target' is a key of format 2: write format: {FORMAT_V2} to use it",
    ) in problems
    assert (
        "waves[1].servers[1]",
        f"a server in another target ({{id, target}}) needs format: {FORMAT_V2}",
    ) in problems


@pytest.mark.parametrize(
    "key", ["aws_secret_access_key", "aws_access_key_id", "aws_session_token", "password"]
)
def test_a_key_that_holds_a_secret_is_refused_with_the_reason_and_without_the_value(key: str) -> None:
    doc = v2_document()
    doc["targets"][0][key] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    problems = problems_of(doc)
    assert [path for path, _ in problems] == [f"targets[0].{key}"]
    assert "looks like a secret, and a plan file never holds one" in problems[0][1]
    assert "EXAMPLEKEY" not in problems[0][1]


def test_target_fields_must_be_strings_so_an_account_keeps_its_leading_zeros() -> None:
    doc = v2_document()
    doc["targets"][0]["account"] = 11111111111
    assert problems_of(doc) == [("targets[0].account", "must be a string, got an integer (put it in quotes)")]


def test_a_server_entry_needs_id_and_target() -> None:
    doc = v2_document()
    doc["waves"][1]["servers"] = [{"id": A}, {"id": B, "target": "stage-a", "impact": "x"}]
    problems = problems_of(doc)
    assert ("waves[1].servers[0]", "missing required key 'target'") in problems
    assert [p for p, _ in problems if p.startswith("waves[1].servers[1]")] == ["waves[1].servers[1].impact"]


# ------------------------------------------------------------------------------------------- validation

ROLE = "arn:aws:iam::111111111111:role/Dr"


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"name": ""}, "targets[0].name", "a target needs a name"),
        ({"name": "prod east"}, "targets[0].name", "is not a target name"),
        ({"account": "12345"}, "targets[0].account", "'12345' is not an AWS account ID (12 digits)"),
        ({"account": "11111111111a"}, "targets[0].account", "not an AWS account ID"),
        ({"region": "US-EAST-1"}, "targets[0].region", "'US-EAST-1' is not an AWS Region"),
        ({"region": "useast1"}, "targets[0].region", "is not an AWS Region"),
        (
            {"profile": ""},
            "targets[0]",
            "say how to reach the target: profile, or role_arn with source_profile",
        ),
        ({"role_arn": ROLE, "source_profile": "hub"}, "targets[0]", "give either profile or role_arn"),
        ({"profile": "has space"}, "targets[0].profile", "'has space' is not an AWS profile name"),
        ({"external_id": "x1"}, "targets[0].external_id", "external_id goes with role_arn"),
        ({"mfa_serial": "GAHT12345678"}, "targets[0].mfa_serial", "mfa_serial goes with role_arn"),
        ({"profile": "AKIAIOSFODNN7EXAMPLE"}, "targets[0].profile", "looks like an AWS access key"),
        (
            {"profile": "", "role_arn": "arn:aws:iam::111111111111:user/Dr", "source_profile": "hub"},
            "targets[0].role_arn",
            "is not an IAM role ARN",
        ),
        (
            {"profile": "", "role_arn": "arn:aws:iam::222222222222:role/Dr", "source_profile": "hub"},
            "targets[0].role_arn",
            "the role is in account 222222222222, but the target is account 111111111111",
        ),
        ({"profile": "", "role_arn": ROLE}, "targets[0].source_profile", "role_arn needs source_profile"),
        (
            {"profile": "", "role_arn": ROLE, "source_profile": "hub", "external_id": "x"},
            "targets[0].external_id",
            "an external ID is 2 to 1224 characters",
        ),
        (
            {"profile": "", "role_arn": ROLE, "source_profile": "hub", "external_id": "x" * 1225},
            "targets[0].external_id",
            "(got 1225 characters)",
        ),
        (
            {"profile": "", "role_arn": ROLE, "source_profile": "hub", "external_id": "bad id!"},
            "targets[0].external_id",
            "an external ID is 2 to 1224 characters",
        ),
        (
            {"profile": "", "role_arn": ROLE, "source_profile": "hub", "mfa_serial": "short"},
            "targets[0].mfa_serial",
            "is not an MFA device ARN",
        ),
    ],
)
def test_every_target_problem_is_named(changes: dict[str, str], path: str, words: str) -> None:
    base = PlanTarget("prod", "111111111111", "us-east-1", profile="dr")
    values = {**base.__dict__, **changes}
    target = PlanTarget(**values)
    plan = RecoveryPlan("P", waves=(Wave("W", servers=(A,)),), targets=(target,))
    found = errors(plan)
    assert [message for where, message in found if where == path and words in message], found
    if "AKIA" in str(changes):
        assert all("AKIA" not in message for _, message in found)


def test_good_role_targets_pass() -> None:
    for extra in (
        {},
        {"external_id": "a" * 1224},
        {"mfa_serial": "GAHT12345678"},
        {"external_id": "x=y,z.@:/-_+"},
    ):
        target = PlanTarget(
            "t", "111111111111", "us-gov-west-1", role_arn=ROLE + "/path/x", source_profile="hub", **extra
        )
        assert errors(RecoveryPlan("P", waves=(Wave("W", servers=(A,)),), targets=(target,))) == []


def test_target_names_are_unique_and_references_must_exist() -> None:
    t = PlanTarget("prod", "111111111111", "us-east-1", profile="dr")
    plan = RecoveryPlan(
        "P",
        targets=(t, t),
        protection_groups=(ProtectionGroup("g", (A,), target="prd"),),
        waves=(Wave("W", groups=("g",), servers=(B,), target="prod", server_targets={B: "nope"}),),
    )
    found = errors(plan)
    assert ("targets[1].name", "duplicate target name 'prod' (targets[0])") in found
    assert ("protection_groups[0].target", "unknown target 'prd' (did you mean 'prod'?)") in found
    assert ("waves[0].servers[0].target", "unknown target 'nope'") in found
    no_targets = RecoveryPlan("P", waves=(Wave("W", servers=(A,), target="prod"),))
    assert errors(no_targets) == [
        ("waves[0].target", "unknown target 'prod': the plan declares no targets (add it under targets:)")
    ]


def two_targets() -> tuple[PlanTarget, PlanTarget]:
    return (
        PlanTarget("a", "111111111111", "us-east-1", profile="pa"),
        PlanTarget("b", "222222222222", "us-east-1", profile="pb"),
    )


def test_with_several_targets_every_group_and_server_says_which() -> None:
    plan = RecoveryPlan(
        "P",
        targets=two_targets(),
        protection_groups=(ProtectionGroup("g", (A,)),),
        waves=(Wave("W", groups=("g",), servers=(B, C), server_targets={C: "a"}),),
    )
    found = errors(plan)
    assert found == [
        (
            "protection_groups[0]",
            "the plan declares 2 targets ('a', 'b'): say which this group is in: add target: NAME",
        ),
        (
            "waves[0].servers[0]",
            "the plan declares 2 targets ('a', 'b'): say which this server is in: give the wave a target: "
            f"or write {{id: {B}, target: NAME}}",
        ),
    ]
    # With one target, it is the default of everything.
    one = RecoveryPlan(
        "P",
        targets=two_targets()[:1],
        protection_groups=plan.protection_groups,
        waves=(Wave("W", groups=("g",), servers=(B,)),),
    )
    assert errors(one) == []


def test_the_same_server_id_in_two_targets_is_fine_but_twice_in_one_target_is_a_duplicate() -> None:
    groups = (ProtectionGroup("ga", (A,), target="a"), ProtectionGroup("gb", (A,), target="b"))
    fine = RecoveryPlan(
        "P", targets=two_targets(), protection_groups=groups, waves=(Wave("W", groups=("ga", "gb")),)
    )
    assert errors(fine) == []
    in_two_waves = RecoveryPlan(
        "P",
        targets=two_targets(),
        protection_groups=groups,
        waves=(
            Wave("W1", groups=("ga",)),
            Wave("W2", servers=(A,), server_targets={A: "b"}),
            Wave("W3", servers=(A,), target="a"),
        ),
    )
    found = errors(in_two_waves)
    assert found == [("waves[2].servers[0]", f"{A} is already in wave 'W1'")]
    in_two_groups = RecoveryPlan(
        "P",
        targets=two_targets(),
        protection_groups=(*groups, ProtectionGroup("ga2", (A,), target="a")),
        waves=(Wave("W", groups=("ga", "gb")),),
    )
    assert ("protection_groups[2].servers[0]", f"{A} is already in protection group 'ga'") in errors(
        in_two_groups
    )


def test_only_the_servers_of_the_inventorys_own_target_are_checked_against_it() -> None:
    inventory = Inventory(
        servers=(SourceServer(source_server_id=A),), account_id="111111111111", region="us-east-1"
    )
    plan = RecoveryPlan(
        "P",
        targets=two_targets(),
        protection_groups=(ProtectionGroup("tagged-b", tags={"App": "x"}, target="b"),),
        waves=(Wave("W", target="a", groups=("tagged-b",), servers=(A, B, C), server_targets={C: "b"}),),
    )
    # B is in target a (the inventory's) and unknown there; C is in b, not checked; b's tag group unresolved.
    assert errors(plan, inventory) == [
        ("waves[0].servers[1]", f"unknown source server {B} (not in the inventory of 111111111111/us-east-1)")
    ]


# ------------------------------------------------------------------------------------------------ diff


def test_the_diff_names_target_changes() -> None:
    old = plan_from_document(v2_document())
    doc = v2_document()
    doc["targets"][0]["region"] = "us-west-2"
    doc["targets"].append(
        {"name": "stage-c", "account": "333333333333", "region": "us-east-1", "profile": "c"}
    )
    doc["protection_groups"][0]["target"] = "stage-c"
    doc["waves"][1]["target"] = "stage-a"
    doc["waves"][1]["servers"] = [{"id": C, "target": "stage-c"}, D]
    new = plan_from_document(doc)
    assert diff_plans(old, new) == [
        "target 'stage-c' added (333333333333 us-east-1, profile 'c')",
        "target 'stage-a': region: 'us-east-1' -> 'us-west-2'",
        "protection group 'db-a': target: 'stage-a' -> 'stage-c'",
        "wave 'Web': target: 'stage-b' -> 'stage-a'",
        # C was in the wave's stage-b and is in stage-c now; D was in stage-a by its own entry and is
        # in stage-a now as the wave's: it did not move, so no line.
        f"wave 'Web': server {C}: target 'stage-b' -> 'stage-c'",
    ]


# -- credentials anywhere in a plan (review): reported by place, never repeated in the message

KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def test_a_key_id_in_a_targets_account_or_region_is_reported_without_being_quoted() -> None:
    target = PlanTarget("a", account=KEY_ID, region=f"us-east-1{KEY_ID}", profile="pa")
    found = errors(RecoveryPlan("P", targets=(target,)))
    assert ("targets[0].account", found[0][1]) in found and ("targets[0].region", found[1][1]) in found
    assert all(KEY_ID not in message for _, message in found), found
    assert all("looks like an AWS access key" in message for _, message in found[:2])


def test_a_key_id_in_free_text_is_an_error_at_its_place() -> None:
    from drs_desktop.domain.plan.model import ApprovalStep

    plan = RecoveryPlan(
        "P",
        description=f"run with {KEY_ID}",
        protection_groups=(ProtectionGroup("g", tags={"Owner": KEY_ID}),),
        waves=(Wave("W", groups=("g",), before=(ApprovalStep(f"key {KEY_ID} ready?"),)),),
    )
    found = dict(errors(plan))
    for place in ("description", "protection_groups[0].tags.Owner", "waves[0].before[0]"):
        assert "looks like an AWS access key ID" in found[place], (place, found)
    assert all(KEY_ID not in message for message in found.values())


def test_an_external_id_of_forty_base64_characters_is_not_taken_for_a_secret() -> None:
    external = "Xk9s2LmQ7pR4tV1wZ8yB3nC6dF0gH5jK/+Aa1bB2"  # openssl rand -base64 30
    assert len(external) == 40
    target = PlanTarget(
        "a",
        account="111111111111",
        region="us-east-1",
        role_arn=ROLE,
        source_profile="hub",
        external_id=external,
    )
    assert errors(RecoveryPlan("P", targets=(target,))) == []


def test_a_drill_profile_round_trips_and_makes_the_file_format_2() -> None:
    from drs_desktop.domain.launch.isolation import DrillProfile

    plan = RecoveryPlan(
        name="Shop",
        waves=(Wave(name="db", servers=(A,)),),
        drill_profile=DrillProfile(
            subnets=("subnet-0a1b2c3d4e5f60718",),
            security_groups=("sg-0a1b2c3d4e5f60718",),
            production_cidrs=("10.20.0.0/16", "172.16.0.0/12"),
        ),
    )
    document = plan_to_document(plan)
    assert document["format"] == FORMAT_V2
    assert document["drill_profile"] == {
        "subnets": ["subnet-0a1b2c3d4e5f60718"],
        "security_groups": ["sg-0a1b2c3d4e5f60718"],
        "production_networks": ["10.20.0.0/16", "172.16.0.0/12"],
    }
    for fmt in ("yaml", "json"):
        assert parse_plan_text(dump_plan(plan, fmt), f"shop.{fmt}").plan == plan
    changed = RecoveryPlan(name="Shop", waves=plan.waves)
    assert any(line.startswith("drill profile:") for line in diff_plans(plan, changed))


def test_a_drill_profile_without_subnets_or_with_a_bad_cidr_is_an_error_at_its_place() -> None:
    document = {
        "format": FORMAT_V2,
        "name": "Shop",
        "waves": [{"name": "db", "servers": [A]}],
        "drill_profile": {"production_networks": ["10.20/33"], "security_groups": ["default"]},
    }
    plan = plan_from_document(document)
    errors = [p for p in validate_plan(plan) if p.severity is Severity.ERROR and p.path == "drill_profile"]
    messages = " / ".join(p.message for p in errors)
    assert (
        "needs at least one subnet" in messages
        and "not a CIDR" in messages
        and "security group ID" in messages
    )
