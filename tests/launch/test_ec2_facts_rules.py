"""The pure rules of copying EC2 facts into DRS: which tags change, and the instance-type override."""

from __future__ import annotations

from drs_desktop.domain.launch.ec2_facts import TagChange, tag_copy, too_many_tags, with_instance_types
from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, RightSizing


def test_the_copy_adds_and_changes_but_never_copies_aws_keys_nor_removes_a_drs_tag() -> None:
    drs = {"Name": "web-01", "Environment": "production", "Team": "dr"}
    ec2 = {
        "Name": "web-01",
        "Environment": "prod",
        "CostCenter": "cc-1",
        "aws:cloudformation:stack-name": "s",
    }
    copy = tag_copy(drs, ec2)
    assert copy.changes == (
        TagChange("CostCenter", None, "cc-1"),
        TagChange("Environment", "production", "prod"),
    )
    assert copy.reserved == ("aws:cloudformation:stack-name",)
    assert "Team" not in copy.as_tags() and "Name" not in copy.as_tags()
    assert tag_copy({**drs, **copy.as_tags()}, ec2).changes == ()  # a second copy changes nothing


def test_too_many_tags_counts_drs_limit() -> None:
    drs = {f"k{i}": "v" for i in range(49)}
    assert too_many_tags(drs, tag_copy(drs, {"a": "1"})) is None
    assert too_many_tags(drs, tag_copy(drs, {"a": "1", "b": "2"})) == 51


def test_instance_types_go_into_the_last_one_server_override_or_a_new_one() -> None:
    own = Override(settings=LaunchFields(copy_private_ip=True), servers=("s-1",))
    shared = Override(settings=LaunchFields(instance_type="m5.large"), servers=("s-2", "s-3"))
    settings = LaunchSettings(overrides=(own, shared))
    after = with_instance_types(settings, {"s-1": "c6i.xlarge", "s-2": "t3.large"})
    first, kept, added = after.overrides
    assert first.servers == ("s-1",) and first.settings.copy_private_ip is True
    assert (first.settings.instance_type, first.settings.right_sizing) == ("c6i.xlarge", RightSizing.NONE)
    assert kept == shared  # a shared override is left as written; a later one-server override wins
    assert added.servers == ("s-2",) and added.settings.instance_type == "t3.large"
    assert with_instance_types(after, {"s-1": "c6i.xlarge", "s-2": "t3.large"}) == after


def test_an_instance_is_read_in_its_origin_region_or_said_unreadable_in_another_account() -> None:
    from drs_desktop.domain.launch.ec2_facts import instance_origin

    here = {"account_id": "111111111111", "region": "us-east-1"}
    assert instance_origin("111111111111", "eu-west-1", **here).region == "eu-west-1"
    assert instance_origin("", "", **here).region == "us-east-1"  # no origin given: DRS's Region
    other = instance_origin("222222222222", "eu-west-1", **here)
    assert other.region == "" and "account 222222222222" in other.problem
    assert "not a Region" in instance_origin("111111111111", "Mars", **here).problem
    assert "not an account ID" in instance_origin("12", "eu-west-1", **here).problem
    unknown = instance_origin("222222222222", "eu-west-1", account_id="", region="us-east-1")
    assert unknown.region == "eu-west-1"  # DRS's account unknown: read it, EC2 answers
