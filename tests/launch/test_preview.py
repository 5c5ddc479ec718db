"""The preview of a plan: its servers in wave order, each through its own group's settings and the plan's."""

from __future__ import annotations

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.launch.current import ServerFacts
from drs_desktop.domain.launch.diff import Destination
from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, SubnetByIp
from drs_desktop.domain.plan.launch_preview import plan_servers, preview_launch_settings
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from tests.launch.builders import CIDRS, S1, S2, S3, SUBNET_A, SUBNET_B, SUBNET_C, config, template

S4 = "s-0000000000000000d"
TABLE = SubnetByIp((("10.1.0.0/16", SUBNET_A), ("10.1.2.0/24", SUBNET_B), ("10.9.0.0/16", SUBNET_C)))


def estate() -> tuple[RecoveryPlan, Inventory, list[ServerFacts]]:
    plan = RecoveryPlan(
        "P",
        protection_groups=(
            ProtectionGroup(
                "db", server_ids=(S1,), launch_settings=LaunchSettings(LaunchFields(instance_type="r5.large"))
            ),
            ProtectionGroup(
                "web", tags={"Tier": "web"}, launch_settings=LaunchSettings(LaunchFields(os_byol=True))
            ),
        ),
        waves=(Wave("Web", groups=("web",)), Wave("DB", groups=("db",), servers=(S4,))),
        launch_settings=LaunchSettings(
            LaunchFields(subnet=TABLE, right_sizing=None),
            (Override(LaunchFields(instance_type="c5.large"), servers=(S4,)),),
        ),
    )
    inventory = Inventory(
        servers=(
            SourceServer(S1, "db-1"),
            SourceServer(S2, "web-1", tags={"Tier": "web"}),
            SourceServer(S3, "web-2", tags={"Tier": "web"}),
            SourceServer(S4, "batch-1"),
        )
    )
    ips = {S1: "10.1.2.5", S2: "10.1.7.7", S3: "172.16.0.9", S4: "10.9.0.4"}
    facts = [ServerFacts.of(server, (ips[server.source_server_id],)) for server in inventory.servers]
    return plan, inventory, facts


def test_the_plans_servers_come_in_wave_order_with_their_group() -> None:
    plan, inventory, _ = estate()
    found = [(server_id, group.name if group else None) for server_id, group in plan_servers(plan, inventory)]
    assert found == [(S2, "web"), (S3, "web"), (S1, "db"), (S4, None)]
    assert [server_id for server_id, _ in plan_servers(plan, None)] == [S1, S4]  # tag group unresolved


def test_every_server_is_resolved_through_its_group_and_the_plan_then_diffed() -> None:
    plan, inventory, facts = estate()
    ids = [f.source_server_id for f in facts]
    configs = {server_id: config(server_id) for server_id in ids}
    templates = {server_id: template() for server_id in ids}
    preview = preview_launch_settings(plan, facts, configs, templates, CIDRS, inventory)
    by_id = {server.server_id: server for server in preview.servers}
    assert list(by_id) == [S2, S3, S1, S4]
    assert [str(c) for c in by_id[S2].changes] == [
        "os_byol: false -> true"
    ]  # 10.1.7.7 is in subnet A already
    assert by_id[S2].sources["os_byol"] == "group 'web' defaults"
    assert [p.code for p in by_id[S3].errors] == ["subnet_unmapped"]  # 172.16.0.9 is in no row
    assert by_id[S3].drs is None and by_id[S3].template is None
    assert {str(c) for c in by_id[S1].changes} == {
        f"subnet: {SUBNET_A} -> {SUBNET_B}",
        "instance_type: m5.large -> r5.large",
    }
    assert {str(c) for c in by_id[S4].changes} == {
        f"subnet: {SUBNET_A} -> {SUBNET_C}",
        "instance_type: m5.large -> c5.large",
    }
    assert preview.blocked == (by_id[S3],)
    assert preview.calls() == {Destination.DRS: 1, Destination.TEMPLATE: 2}
    assert preview.unknown == ()


def test_servers_missing_from_the_facts_are_named_not_previewed() -> None:
    plan, inventory, facts = estate()
    preview = preview_launch_settings(plan, facts[:2], {}, {}, CIDRS, inventory)
    assert preview.unknown == (S3, S4)
    assert [s.server_id for s in preview.servers] == [S2, S1]
    # Nothing was read of DRS or EC2: every desired field says what is missing, nothing is applicable.
    assert {p.code for s in preview.servers for p in s.errors} == {
        "launch_configuration_unknown",
        "template_unknown",
    }
    assert preview.applicable == ()
