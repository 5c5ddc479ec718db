"""Launch settings in the plan: read and written in format 2, checked with the file's paths, compared in
the plan diff, and kept through plan files, the database's revisions and the document sync ships."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.domain.errors import PlanDocumentError, PlanFileError
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.launch.model import (
    Disposition,
    LaunchFields,
    LaunchSettings,
    Override,
    RightSizing,
    SubnetByIp,
)
from drs_desktop.domain.plan.diff import diff_plans
from drs_desktop.domain.plan.document import FORMAT_V1, FORMAT_V2, plan_from_document, plan_to_document
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.problem_places import problem_text
from drs_desktop.domain.plan.validation import Severity, validate_plan
from drs_desktop.storage.db import Database
from drs_desktop.storage.planfile import dump_plan, load_plan_file, parse_plan_text, write_plan_file
from drs_desktop.storage.plans import canonical_json, diff_revisions, get_plan, save_plan
from tests.launch.builders import S1, S2, S3, SG_1, SG_2, SUBNET_A, SUBNET_B

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plan-format.md"


def launch_plan() -> RecoveryPlan:
    """A plan using every launch field, a CIDR table, both kinds of override and a group's settings."""
    return RecoveryPlan(
        name="Payments",
        protection_groups=(
            ProtectionGroup(
                "db",
                server_ids=(S1, S2),
                launch_settings=LaunchSettings(
                    LaunchFields(instance_type="r5.xlarge", right_sizing=RightSizing.NONE),
                    (Override(LaunchFields(os_byol=True), servers=(S2,)),),
                ),
            ),
            ProtectionGroup("web", tags={"Tier": "web"}),
        ),
        waves=(Wave("DB", groups=("db",)), Wave("Web", groups=("web",), servers=(S3,))),
        launch_settings=LaunchSettings(
            LaunchFields(
                subnet=SubnetByIp((("10.1.0.0/16", SUBNET_A), ("10.1.2.0/24", SUBNET_B))),
                security_groups=(SG_1, SG_2),
                copy_private_ip=True,
                os_byol=False,
                copy_tags=True,
                add_tags={"DR": "yes", "Cost": "017"},
                launch_disposition=Disposition.STARTED,
            ),
            (
                Override(LaunchFields(launch_disposition=Disposition.STOPPED), tags={"Tier": "web"}),
                Override(LaunchFields(subnet=SUBNET_A, copy_private_ip=False), servers=(S3,)),
            ),
        ),
    )


def test_a_plan_with_launch_settings_is_written_as_format_2_and_reads_back_equal() -> None:
    plan = launch_plan()
    assert validate_plan(plan) == []
    doc = plan_to_document(plan)
    assert doc["format"] == FORMAT_V2
    assert list(doc)[-1] == "launch_settings"  # after the waves, where format 2 placed it
    assert doc["launch_settings"]["groups"] == [
        {
            "group": "db",
            "defaults": {"instance_type": "r5.xlarge", "right_sizing": "NONE"},
            "overrides": [{"servers": [S2], "os_byol": True}],
        }
    ]
    assert plan_from_document(json.loads(canonical_json(doc))) == plan  # what the database and sync hold
    for fmt in ("yaml", "json"):
        text = dump_plan(plan, fmt)
        assert parse_plan_text(text, f"p.{fmt}").plan == plan
        assert dump_plan(parse_plan_text(text, f"p.{fmt}").plan, fmt) == text  # stable, byte for byte
    assert "Cost: '017'" in dump_plan(plan, "yaml")  # a tag value that YAML could take for a number


def test_the_plan_file_round_trips_through_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "payments.yaml"
    write_plan_file(launch_plan(), path)
    assert load_plan_file(path).plan == launch_plan()


def test_plans_without_launch_settings_keep_their_format_and_documents() -> None:
    plain = RecoveryPlan("P", waves=(Wave("W", servers=(S1,)),))
    assert plan_to_document(plain) == {
        "format": FORMAT_V1,
        "name": "P",
        "waves": [{"name": "W", "servers": [S1]}],
    }
    empty_group = RecoveryPlan("P", protection_groups=(ProtectionGroup("g", server_ids=(S1,)),))
    assert "launch_settings" not in plan_to_document(empty_group)
    for old in ({"format": FORMAT_V1, "name": "P"}, {"format": FORMAT_V2, "name": "P"}):
        assert plan_from_document(old).launch_settings.is_empty()
    assert plan_from_document(
        {"format": FORMAT_V2, "name": "P", "launch_settings": None}
    ) == plan_from_document({"format": FORMAT_V1, "name": "P"})


def test_launch_settings_in_a_format_1_file_ask_for_format_2() -> None:
    with pytest.raises(PlanDocumentError) as caught:
        plan_from_document({"format": FORMAT_V1, "name": "P", "launch_settings": {}})
    assert caught.value.problems == [
        ("launch_settings", f"'launch_settings' is a key of format 2: write format: {FORMAT_V2} to use it")
    ]


def document_problems(part: object, groups: list[dict[str, Any]] | None = None) -> list[tuple[str, str]]:
    doc = {"format": FORMAT_V2, "name": "P", "protection_groups": groups or [], "launch_settings": part}
    with pytest.raises(PlanDocumentError) as caught:
        plan_from_document(doc)
    return caught.value.problems


@pytest.mark.parametrize(
    ("part", "path", "words"),
    [
        ({"defualts": {}}, "launch_settings.defualts", "did you mean 'defaults'"),
        ({"defaults": {"subnet": 5}}, "launch_settings.defaults.subnet", "a subnet ID, or {by_ip"),
        ({"defaults": {"subnet": {"by_ip": [1]}}}, "launch_settings.defaults.subnet.by_ip", "a mapping"),
        (
            {"defaults": {"copy_private_ip": "true"}},
            "launch_settings.defaults.copy_private_ip",
            "true or false",
        ),
        (
            {"defaults": {"launch_disposition": "started"}},
            "launch_settings.defaults.launch_disposition",
            "write STARTED",
        ),
        (
            {"defaults": {"right_sizing": "AUTO"}},
            "launch_settings.defaults.right_sizing",
            "NONE, BASIC, IN_AWS",
        ),
        ({"defaults": {"security_groups": SG_1}}, "launch_settings.defaults.security_groups", "a list"),
        ({"defaults": {"add_tags": {"DR": 1}}}, "launch_settings.defaults.add_tags.DR", "put it in quotes"),
        ({"overrides": [{"servers": [S1], "tag": {}}]}, "launch_settings.overrides[0].tag", "did you mean"),
        (
            {"groups": [{"group": "nope"}]},
            "launch_settings.groups[0].group",
            "no protection group is named 'nope'",
        ),
    ],
)
def test_structural_problems_name_their_field(part: object, path: str, words: str) -> None:
    problems = document_problems(part)
    assert [p for p, _ in problems] == [path]
    assert words in problems[0][1]


def test_a_groups_settings_given_twice_are_refused() -> None:
    problems = document_problems(
        {"groups": [{"group": "g"}, {"group": "g"}]}, [{"name": "g", "servers": [S1]}]
    )
    assert problems == [
        ("launch_settings.groups[1].group", "the launch settings of group 'g' are given twice; merge them")
    ]


def test_yaml_1_1_boolean_words_are_refused_with_the_line() -> None:
    text = f"format: {FORMAT_V2}\nname: P\nlaunch_settings:\n  defaults:\n    os_byol: no\n"
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, "p.yaml")
    assert caught.value.lines() == [
        "p.yaml:5: launch_settings.defaults.os_byol: no is false to YAML 1.1 readers but a string to YAML "
        "1.2 ones; write false"
    ]
    assert (
        parse_plan_text(text.replace("no\n", "false\n"), "p.yaml").plan.launch_settings.defaults.os_byol
        is False
    )


def test_value_problems_are_validation_errors_at_the_files_lines() -> None:
    text = f"""\
format: {FORMAT_V2}
name: P
protection_groups:
  - name: db
    servers: [{S1}]
waves:
  - name: W
    groups: [db]
launch_settings:
  defaults:
    subnet: {{by_ip: {{10.1.0.1/16: {SUBNET_A}}}}}
    instance_type: large
  overrides:
    - servers: [{S1}, {S1}]
      security_groups: []
  groups:
    - group: db
      overrides:
        - tags: {{}}
          add_tags: {{"aws:name": x}}
"""
    with pytest.raises(PlanFileError) as caught:
        parse_plan_text(text, "p.yaml")
    assert caught.value.lines() == [
        "p.yaml:11: launch_settings.defaults.subnet.by_ip[\"10.1.0.1/16\"]: '10.1.0.1/16' has host bits set; "
        "the block is 10.1.0.0/16",
        "p.yaml:12: launch_settings.defaults.instance_type: 'large' is not an EC2 instance type such as "
        "m5.large",
        f"p.yaml:14: launch_settings.overrides[0].servers[1]: {S1} is listed twice in this override",
        "p.yaml:15: launch_settings.overrides[0].security_groups: no security group: leave the key out to "
        "keep the template's, or name one",
        "p.yaml:19: launch_settings.groups[0].overrides[0].tags: an empty tag selector selects no server; "
        "name at least one tag",
        'p.yaml:20: launch_settings.groups[0].overrides[0].add_tags["aws:name"]: tag keys starting with '
        "'aws:' are reserved for AWS",
    ]


def test_an_override_naming_a_server_outside_the_plan_or_group_is_a_warning_the_editor_places() -> None:
    plan = RecoveryPlan(
        "P",
        protection_groups=(
            ProtectionGroup(
                "db",
                server_ids=(S1,),
                launch_settings=LaunchSettings(
                    overrides=(Override(LaunchFields(os_byol=True), servers=(S2,)),)
                ),
            ),
        ),
        waves=(Wave("W", groups=("db",), servers=(S2,)),),
        launch_settings=LaunchSettings(overrides=(Override(LaunchFields(os_byol=True), servers=(S3,)),)),
    )
    problems = validate_plan(plan)
    assert [(p.path, p.severity) for p in problems] == [
        ("launch_settings.overrides[0].servers[0]", Severity.WARNING),
        ("launch_settings.groups[0].overrides[0].servers[0]", Severity.WARNING),
    ]
    assert problem_text(problems[0], plan) == (
        f"warning: Launch settings, override 1, servers: {S3} is not a server of this plan; this override "
        "does not apply to it"
    )
    assert problem_text(problems[1], plan).startswith(
        "warning: Launch settings, group 'db', override 1, servers: "
    )
    # A tag group's members are known only with an inventory: without one, nothing is called a stranger.
    tag_group = replace(
        plan, protection_groups=(ProtectionGroup("t", tags={"A": "1"}),), waves=(Wave("W", groups=("t",)),)
    )
    assert validate_plan(tag_group) == []
    inventory = Inventory(servers=(SourceServer(S1, tags={"A": "1"}), SourceServer(S3)))
    assert [p.path for p in validate_plan(tag_group, inventory)] == [
        "launch_settings.overrides[0].servers[0]"
    ]
    inventory = Inventory(servers=(SourceServer(S1), SourceServer(S3, tags={"A": "1"})))
    assert validate_plan(tag_group, inventory) == []


def test_the_plan_diff_names_each_launch_setting_that_changed() -> None:
    old = launch_plan()
    db = old.protection_groups[0]
    new = RecoveryPlan(
        **{
            **old.__dict__,
            "protection_groups": (
                ProtectionGroup(
                    "db",
                    server_ids=db.server_ids,
                    launch_settings=LaunchSettings(LaunchFields(instance_type="r5.2xlarge")),
                ),
                old.protection_groups[1],
            ),
            "launch_settings": LaunchSettings(
                LaunchFields(copy_tags=False), old.launch_settings.overrides[:1]
            ),
        }
    )
    lines = diff_plans(old, new)
    assert (
        "protection group 'db': launch settings defaults instance_type: 'r5.xlarge' -> 'r5.2xlarge'" in lines
    )
    assert "launch settings defaults copy_tags: true -> false" in lines
    assert f"launch settings defaults subnet by_ip 10.1.2.0/24 removed (was '{SUBNET_B}')" in lines
    assert (
        f"launch settings override 2 (servers {S3}) removed (was subnet='{SUBNET_A}', copy_private_ip=false)"
        in lines
    )
    assert diff_plans(old, old) == []


def test_revisions_in_the_database_keep_the_launch_settings(tmp_path: Path) -> None:
    with Database.open(tmp_path / "db.sqlite3") as db:
        plain = RecoveryPlan(
            "Payments",
            waves=launch_plan().waves,
            protection_groups=(
                ProtectionGroup("db", server_ids=(S1, S2)),
                ProtectionGroup("web", tags={"Tier": "web"}),
            ),
        )
        save_plan(db, plain)
        second = save_plan(db, launch_plan())
        assert second.revision == 2
        assert get_plan(db, "Payments") == launch_plan()
        assert get_plan(db, "Payments", 1).launch_settings.is_empty()
        lines = diff_revisions(db, "Payments", 1, 2)
        assert "protection group 'db': launch settings defaults instance_type added: 'r5.xlarge'" in lines
        assert save_plan(db, launch_plan()).revision == 2  # the same content is no new revision


def test_the_documented_launch_settings_example_reads_as_described() -> None:
    text = DOCS.read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL) if "launch_settings:" in b]
    plan = parse_plan_text(block, "doc.yaml").plan
    settings = plan.launch_settings
    assert settings.defaults.subnet == SubnetByIp(
        (("10.1.0.0/16", "subnet-0aaaaaaaaaaaaaaaa"), ("10.1.2.0/24", "subnet-0bbbbbbbbbbbbbbbb"))
    )
    assert (settings.defaults.copy_private_ip, settings.defaults.add_tags) == (True, {"DR": "recovered"})
    assert [o.tags for o in settings.overrides] == [{"Tier": "web"}, None]
    assert settings.overrides[1].settings == LaunchFields(
        subnet="subnet-0aaaaaaaaaaaaaaaa", copy_private_ip=False
    )
    db = plan.protection_groups[0].launch_settings.defaults
    assert (db.instance_type, db.right_sizing) == ("r5.xlarge", RightSizing.NONE)
    assert validate_plan(plan) == []
