"""The pure part of launch drift: a server's state and words, and what "accept" makes desired."""

from __future__ import annotations

from datetime import UTC, datetime

from drs_desktop.domain.launch.current import ServerFacts, TemplateValues
from drs_desktop.domain.launch.diff import ServerLaunchPlan, plan_server
from drs_desktop.domain.launch.model import Disposition, LaunchFields, LaunchSettings, Override
from drs_desktop.domain.launch.resolve import resolve
from drs_desktop.domain.plan.launch_preview import LaunchPreview
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views.launch_drift import (
    DriftState,
    LaunchDrift,
    accept_fields,
    plan_drift,
    with_accepted,
)

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class Config:
    launch_disposition = "STARTED"
    right_sizing = "NONE"
    copy_private_ip: bool | None = False
    copy_tags: bool | None = None
    os_byol: bool | None = False


def _planned(settings: LaunchSettings, template: TemplateValues | None) -> ServerLaunchPlan:
    server = ServerFacts("s-1", "web-1")
    return plan_server(server, resolve(server, settings), Config(), template)


def test_accept_takes_every_current_value_a_field_can_hold_and_names_a_tag_it_cannot() -> None:
    desired = LaunchSettings(
        defaults=LaunchFields(
            instance_type="c5.large",
            launch_disposition=Disposition.STOPPED,
            add_tags={"DR": "yes", "Owner": "ops"},
        )
    )
    template = TemplateValues("lt-1", 3, "subnet-a", ("sg-1",), "t3.small", {"Owner": "dba"})
    planned = _planned(desired, template)
    assert {c.field for c in planned.changes} == {
        "instance_type",
        "launch_disposition",
        "tag DR",
        "tag Owner",
    }

    accepted = accept_fields(planned, Config(), template)

    assert accepted.fields.instance_type == "t3.small"
    assert accepted.fields.launch_disposition is Disposition.STARTED
    assert accepted.fields.add_tags == {"Owner": "dba"}
    assert accepted.refused == ("tag DR: the server has no such tag, and desired tags can only add one",)


def test_accepting_twice_merges_into_the_one_server_override_and_the_drift_is_gone() -> None:
    template = TemplateValues("lt-1", 3, "subnet-a", ("sg-1",), "t3.small", {})
    settings = LaunchSettings(defaults=LaunchFields(instance_type="c5.large"))
    plan = RecoveryPlan(name="P", waves=(Wave(name="w", servers=("s-1",)),), launch_settings=settings)
    once = with_accepted(plan, "s-1", LaunchFields(instance_type="t3.small"))
    twice = with_accepted(once, "s-1", LaunchFields(launch_disposition=Disposition.STARTED))
    assert twice.launch_settings.overrides == (
        Override(
            settings=LaunchFields(instance_type="t3.small", launch_disposition=Disposition.STARTED),
            servers=("s-1",),
        ),
    )
    assert twice.launch_settings.defaults == settings.defaults
    assert not _planned(twice.launch_settings, template).changed


def test_the_words_of_the_column_and_the_card() -> None:
    template = TemplateValues("lt-1", 3, "subnet-a", ("sg-1",), "t3.small", {})
    drifted = _planned(LaunchSettings(defaults=LaunchFields(instance_type="c5.large")), template)
    blocked = _planned(LaunchSettings(defaults=LaunchFields(subnet="subnet-b")), None)  # template not read
    fine = _planned(LaunchSettings(defaults=LaunchFields(instance_type="t3.small")), template)
    a = plan_drift("A", 1, LaunchPreview((drifted,)), AT)
    b = plan_drift("B", 4, LaunchPreview((fine,)), AT)
    assert a.servers[0].state is DriftState.DRIFTED and b.servers[0].state is DriftState.AS_DESIRED
    assert a.summary() == "launch settings: 1 server drifted"
    assert b.summary() == "launch settings: all 1 server(s) as desired"
    both = LaunchDrift((a, b), AT)
    assert both.column_text("s-1") == "1 field(s) drifted (A)"  # the worst plan, named
    c = plan_drift("C", 2, LaunchPreview((blocked,)), AT)
    assert c.servers[0].state is DriftState.BLOCKED
    assert LaunchDrift((c,), AT).column_text("s-1").startswith("blocked: ")
    assert LaunchDrift((a,), AT).column_text("s-2") == "no desired state"
