"""Applying a plan's desired launch settings on the simulator (real boto3 over loopback, virtual clock):
verified field by field, blocked and changed servers left alone, a lost answer, an apply interrupted
between two steps and resumed with nothing done twice, and a drill that lands where the apply said."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.ec2 import SubnetView
from drs_desktop.domain.launch.model import (
    Disposition,
    LaunchFields,
    LaunchSettings,
    Override,
    RightSizing,
    SubnetByIp,
)
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.plan.revisions import StoredPlan
from drs_desktop.services.launch_apply import ApplyProgress, apply_plan, resume_apply, run_apply, start_apply
from drs_desktop.services.launch_apply_steps import VERSION_MARK
from drs_desktop.services.launch_state import preview_plan
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.launch_applies import ApplyStatus, ServerStep, load_apply
from drs_desktop.storage.plans import load_plan, save_plan
from tests.aws.conftest import run_to_completion

pytestmark = pytest.mark.timeout(120)

SHOP = ("shop-web-01", "shop-web-02", "shop-app-01", "shop-app-02", "shop-db-01")


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def gateways(sim: EmbeddedSimulator) -> Iterator[tuple[DrsGateway, Ec2Gateway]]:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    yield drs, ec2
    drs.close()
    ec2.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def ids(sim: EmbeddedSimulator) -> dict[str, str]:
    return {name: sim.backend.server_id_of(name) for name in SHOP}


def subnets(ec2: Ec2Gateway) -> dict[str, SubnetView]:
    return {s.cidr: s for s in ec2.subnets()}


def shop_plan(sim: EmbeddedSimulator, ec2: Ec2Gateway, *, blocked: bool = False) -> RecoveryPlan:
    """Three waves of the shop; both production subnets mapped by CIDR; the database drilled apart."""
    s = ids(sim)
    nets = subnets(ec2)
    table = SubnetByIp(
        rows=tuple((cidr, net.subnet_id) for cidr, net in nets.items() if cidr.startswith("10.20."))
    )
    drill = nets["10.99.0.0/20"]
    drill_group = next(g for g in ec2.security_groups(vpc_id=drill.vpc_id) if g.name == "drill-servers")
    overrides = [
        Override(
            servers=(s["shop-db-01"],),
            settings=LaunchFields(subnet=drill.subnet_id, security_groups=(drill_group.group_id,)),
        )
    ]
    if blocked:
        overrides.append(
            Override(servers=(s["shop-app-02"],), settings=LaunchFields(subnet="subnet-00000000000000000"))
        )
    settings = LaunchSettings(
        defaults=LaunchFields(
            subnet=table,
            instance_type="c5.xlarge",
            right_sizing=RightSizing.NONE,
            os_byol=True,
            launch_disposition=Disposition.STOPPED,
            add_tags={"DrTier": "gold"},
        ),
        overrides=tuple(overrides),
    )
    return RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="db", servers=(s["shop-db-01"],)),
            Wave(name="app", servers=(s["shop-app-01"], s["shop-app-02"])),
            Wave(name="web", servers=(s["shop-web-01"], s["shop-web-02"])),
        ),
        launch_settings=settings,
    )


def stored(db: Database, plan: RecoveryPlan) -> StoredPlan:
    save_plan(db, plan)
    return load_plan(db, plan.name)


def version_count(ec2: Ec2Gateway, template_id: str) -> int:
    return len(ec2.template_versions(template_id))


def template_of(drs: DrsGateway, server_id: str) -> str:
    return drs.launch_configuration(server_id).ec2_launch_template_id


def test_an_apply_of_three_waves_is_verified_field_by_field_and_a_drill_lands_where_it_said(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], db: Database
) -> None:
    drs, ec2 = gateways
    s = ids(sim)
    plan = shop_plan(sim, ec2, blocked=True)
    seen: list[ApplyProgress] = []
    (outcome, _state) = apply_plan(db, stored(db, plan), drs.inventory(), drs, ec2, on_progress=seen.append)
    record = outcome.record
    steps = {srv.server_id: srv.step for srv in record.servers}
    assert record.status is ApplyStatus.DONE and not outcome.interrupted
    assert steps.pop(s["shop-app-02"]) is ServerStep.SKIPPED
    assert set(steps.values()) == {ServerStep.VERIFIED} and len(steps) == 4
    assert seen[-1].ended == seen[-1].total == 5

    nets = subnets(ec2)
    drill = nets["10.99.0.0/20"]
    for name in ("shop-web-01", "shop-web-02", "shop-app-01", "shop-db-01"):
        server_id = s[name]
        config = drs.launch_configuration(server_id)
        assert (config.os_byol, config.launch_disposition, config.right_sizing) == (True, "STOPPED", "NONE")
        (default,) = ec2.template_versions(config.ec2_launch_template_id, ["$Default"])
        assert default.version == 2 and (default.description or "").startswith(
            f"{VERSION_MARK} {record.apply_id}"
        )
        data = default.data
        assert data.instance_type == "c5.xlarge" and dict(data.instance_tags)["DrTier"] == "gold"
        assert "Name" in dict(data.instance_tags)  # the base version's tags are kept
        ip = next(srv.ips for srv in drs.describe_source_servers([server_id]))[0]
        expected = (
            drill
            if name == "shop-db-01"
            else next(n for n in nets.values() if n.contains(ip) and n.cidr.startswith("10.20."))
        )
        assert data.subnet_id == expected.subnet_id
    # the blocked server: untouched in EC2 and DRS
    blocked_config = drs.launch_configuration(s["shop-app-02"])
    assert version_count(ec2, blocked_config.ec2_launch_template_id) == 1
    assert blocked_config.launch_disposition != "STOPPED" or blocked_config.os_byol is not True
    skipped = next(srv for srv in record.servers if srv.server_id == s["shop-app-02"])
    assert "subnet-00000000000000000" in skipped.reason

    # a drill of the database now launches into the drill subnet the apply set
    job = drs.start_recovery([s["shop-db-01"]], is_drill=True, tags={"test": "after-apply"})
    done, _ = run_to_completion(sim, drs, job.job_id)
    assert done.servers[0].launch_status.value == "LAUNCHED"
    sim.clock.advance(300)
    (instance,) = [i for i in drs.describe_recovery_instances([s["shop-db-01"]]) if i.job_id == job.job_id]
    assert instance.ec2_instance_id is not None
    (landed,) = ec2.instances([instance.ec2_instance_id])
    assert landed.subnet_id == drill.subnet_id and landed.instance_type == "c5.xlarge"

    # applying again changes nothing: every server is as desired
    (again, _) = apply_plan(db, load_plan(db, "Shop"), drs.inventory(), drs, ec2)
    assert [srv.step for srv in again.record.servers] == [ServerStep.SKIPPED]  # only the blocked one


def test_a_server_changed_out_of_band_since_the_preview_is_refused(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], db: Database
) -> None:
    drs, ec2 = gateways
    s = ids(sim)
    plan = stored(db, shop_plan(sim, ec2))
    preview, _ = preview_plan(plan, drs.inventory(), drs, ec2)
    record = start_apply(db, plan, preview, drs)
    # after the preview: someone makes a new default version of web-01's template, and sets web-02's
    # launch disposition in DRS by hand
    web1_template = template_of(drs, s["shop-web-01"])
    made = ec2.create_template_version(web1_template, preview_data(), source_version=1, description="by hand")
    ec2.set_default_version(web1_template, made.version)
    client = boto3.client("drs", **sim.client_kwargs())
    client.update_launch_configuration(sourceServerID=s["shop-web-02"], launchDisposition="STOPPED")

    final = run_apply(db, record, drs, ec2)
    by_id = {srv.server_id: srv for srv in final.servers}
    web1, web2 = by_id[s["shop-web-01"]], by_id[s["shop-web-02"]]
    assert web1.step is ServerStep.SKIPPED and "changed in EC2 since the preview" in web1.reason
    assert web2.step is ServerStep.SKIPPED and "launch_disposition is now STOPPED" in web2.reason
    assert version_count(ec2, web1_template) == 2  # only the version made by hand
    assert version_count(ec2, template_of(drs, s["shop-web-02"])) == 1
    assert drs.launch_configuration(s["shop-web-02"]).os_byol is not True
    others = [srv.step for sid, srv in by_id.items() if sid not in (web1.server_id, web2.server_id)]
    assert others == [ServerStep.VERIFIED] * 3 and final.status is ApplyStatus.DONE


def preview_data():  # type: ignore[no-untyped-def]
    from drs_desktop.domain.ec2 import LaunchTemplateData

    return LaunchTemplateData(instance_type="t3.nano")


class Interrupt(Exception):
    pass


def test_a_lost_answer_and_an_interrupted_apply_resume_with_nothing_done_twice(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], db: Database
) -> None:
    drs, ec2 = gateways
    s = ids(sim)
    plan = stored(db, shop_plan(sim, ec2))
    preview, _ = preview_plan(plan, drs.inventory(), drs, ec2)
    record = start_apply(db, plan, preview, drs)
    templates = {sid: template_of(drs, sid) for sid in s.values()}
    # the first UpdateLaunchConfiguration is carried out and its answer lost: sent again, same result
    sim.faults.lose_answer("UpdateLaunchConfiguration", count=1)
    second = record.servers[1]

    def stop_at_second_version(progress: ApplyProgress) -> None:
        if progress.server_id == second.server_id and progress.step is ServerStep.VERSION_CREATED:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_apply(db, record, drs, ec2, on_progress=stop_at_second_version, workers=1)
    journal = load_apply(db, record.apply_id)
    assert journal is not None and journal.status is ApplyStatus.RUNNING
    held = {srv.server_id: srv for srv in journal.servers}[second.server_id]
    assert held.step is ServerStep.VERSION_CREATED
    assert (
        held.half_changed() == f"half-changed: template version {held.new_version} created, not yet default"
    )
    assert journal.servers[0].step is ServerStep.VERIFIED
    assert all(srv.step is ServerStep.PENDING for srv in journal.servers[2:])

    # three lost answers in a row: the server is left with its write unanswered, the apply unfinished (one
    # worker: with two, the three losses could fall on two servers' calls and each would get through)
    sim.faults.lose_answer("UpdateLaunchConfiguration", count=3)
    left = resume_apply(db, record.apply_id, drs, ec2, workers=1)
    assert left.status is ApplyStatus.RUNNING
    (unclear,) = left.half_changed
    assert unclear.pending_step == "update_drs" and "may or may not be updated" in unclear.half_changed()

    final = resume_apply(db, record.apply_id, drs, ec2, workers=3)
    assert final.status is ApplyStatus.DONE and not final.half_changed
    assert [srv.step for srv in final.servers] == [ServerStep.VERIFIED] * 5
    for sid, template_id in templates.items():  # one new version per template, never two
        assert version_count(ec2, template_id) == 2, sid
    counts = Counter(sim.backend.request_counts())
    assert counts["ec2:CreateLaunchTemplateVersion"] == 5
    assert counts["UpdateLaunchConfiguration"] == 5 + 1 + 3


def test_a_resume_never_sets_its_version_as_default_over_a_default_someone_set_since(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], db: Database
) -> None:
    """Interrupted between its new version and the default: by the resume, someone has made another
    version the default by hand. The resume leaves that default, and says its own version is unused."""
    drs, ec2 = gateways
    plan = stored(db, shop_plan(sim, ec2))
    preview, _ = preview_plan(plan, drs.inventory(), drs, ec2)
    record = start_apply(db, plan, preview, drs)
    first = record.servers[0]

    def stop_at_first_version(progress: ApplyProgress) -> None:
        if progress.server_id == first.server_id and progress.step is ServerStep.VERSION_CREATED:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_apply(db, record, drs, ec2, on_progress=stop_at_first_version, workers=1)
    journal = load_apply(db, record.apply_id)
    assert journal is not None
    held = {srv.server_id: srv for srv in journal.servers}[first.server_id]
    assert held.step is ServerStep.VERSION_CREATED and held.new_version is not None
    template_id = template_of(drs, first.server_id)
    by_hand = ec2.create_template_version(
        template_id, preview_data(), source_version=1, description="by hand"
    )
    ec2.set_default_version(template_id, by_hand.version)

    final = resume_apply(db, record.apply_id, drs, ec2, workers=1)
    server = {srv.server_id: srv for srv in final.servers}[first.server_id]
    (default,) = ec2.template_versions(template_id, ["$Default"])
    assert default.version == by_hand.version  # the change made by hand stands
    assert server.step is ServerStep.SKIPPED, server
    assert f"version {held.new_version}" in server.reason and "changed in EC2" in server.reason
    others = [srv.step for srv in final.servers if srv.server_id != first.server_id]
    assert others == [ServerStep.VERIFIED] * 4 and final.status is ApplyStatus.DONE


def test_a_resume_never_overwrites_a_drs_field_someone_set_since(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], db: Database
) -> None:
    """Interrupted between its default version and its DRS update: by the resume, someone has set the
    server's right-sizing by hand. The resume leaves DRS's configuration as it is and says so."""
    drs, ec2 = gateways
    plan = stored(db, shop_plan(sim, ec2))
    preview, _ = preview_plan(plan, drs.inventory(), drs, ec2)
    record = start_apply(db, plan, preview, drs)
    first = record.servers[0]

    def stop_at_first_default(progress: ApplyProgress) -> None:
        if progress.server_id == first.server_id and progress.step is ServerStep.DEFAULT_SET:
            raise Interrupt

    with pytest.raises(Interrupt):
        run_apply(db, record, drs, ec2, on_progress=stop_at_first_default, workers=1)
    client = boto3.client("drs", **sim.client_kwargs())
    client.update_launch_configuration(
        sourceServerID=first.server_id, targetInstanceTypeRightSizingMethod="IN_AWS"
    )

    final = resume_apply(db, record.apply_id, drs, ec2, workers=1)
    server = {srv.server_id: srv for srv in final.servers}[first.server_id]
    assert server.step is ServerStep.SKIPPED, server
    assert "changed in DRS" in server.reason and "right_sizing is now IN_AWS" in server.reason
    assert drs.launch_configuration(first.server_id).right_sizing == "IN_AWS"  # the hand change stands
    others = [srv.step for srv in final.servers if srv.server_id != first.server_id]
    assert others == [ServerStep.VERIFIED] * 4 and final.status is ApplyStatus.DONE


def test_a_template_with_a_second_network_interface_is_refused_not_rewritten_without_it(
    sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], db: Database
) -> None:
    """EC2 replaces NetworkInterfaces whole, and an apply writes only device 0: applied, a template with a
    second interface would lose it without a word. The server is refused instead, the template untouched."""
    drs, ec2 = gateways
    s = ids(sim)
    web1 = s["shop-web-01"]
    template_id = template_of(drs, web1)
    (base,) = ec2.template_versions(template_id, ["$Default"])
    client = boto3.client("ec2", **sim.client_kwargs())
    nics = [
        {"DeviceIndex": 0, "SubnetId": base.data.subnet_id, "Groups": list(base.data.security_group_ids)},
        {"DeviceIndex": 1, "SubnetId": base.data.subnet_id, "Groups": list(base.data.security_group_ids)},
    ]
    made = client.create_launch_template_version(
        LaunchTemplateId=template_id,
        SourceVersion=str(base.version),
        LaunchTemplateData={"NetworkInterfaces": nics},
    )["LaunchTemplateVersion"]["VersionNumber"]
    ec2.set_default_version(template_id, made)

    outcome, _ = apply_plan(db, stored(db, shop_plan(sim, ec2)), drs.inventory(), drs, ec2, workers=1)
    server = {srv.server_id: srv for srv in outcome.record.servers}[web1]
    assert server.step is ServerStep.SKIPPED and "network interface" in server.reason, server
    assert version_count(ec2, template_id) == made  # no version made by the apply
    (default,) = client.describe_launch_template_versions(
        LaunchTemplateId=template_id, Versions=["$Default"]
    )["LaunchTemplateVersions"]
    assert len(default["LaunchTemplateData"]["NetworkInterfaces"]) == 2
