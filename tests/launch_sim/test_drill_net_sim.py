"""A drill of a plan with a drill profile launches into the drill network, and puts production's launch
templates back: on the simulator (DRS and EC2 in one world, loopback HTTP, real boto3, virtual clock).

A launch lands per its template's DEFAULT version at launch time (docs/simulator.md, "EC2"), so where the
recovery instances are in EC2 is the proof that the templates were pointed before the launch; the
templates' default versions after the run are the proof that they were restored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.drs.errors import DrsOutcomeUnknown
from drs_desktop.domain.ec2 import LaunchTemplateData, SubnetView
from drs_desktop.domain.engine.drill_net_events import TemplatesPointRequested, TemplatesRestoreRequested
from drs_desktop.domain.engine.drill_net_state import NetStatus
from drs_desktop.domain.engine.events import Cancel, Event, Outcome
from drs_desktop.domain.engine.queries import is_held
from drs_desktop.domain.engine.state import ExecutionState, Mode
from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.services import reports
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

pytestmark = pytest.mark.timeout(120)

PRODUCTION = ("10.20.0.0/16", "172.16.0.0/12")
HOSTS = ("shop-db-01", "shop-app-01", "shop-app-02", "shop-web-01")


class Crash(BaseException):
    """The runner's process dies here (not an Exception: nothing in the runner catches it)."""


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def target(sim: EmbeddedSimulator) -> AwsTarget:
    return AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)


@pytest.fixture
def gateways(target: AwsTarget) -> Iterator[tuple[DrsGateway, Ec2Gateway]]:
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    yield drs, ec2
    drs.close()
    ec2.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def drill_subnet(ec2: Ec2Gateway) -> tuple[SubnetView, str]:
    subnet = next(s for s in ec2.subnets() if s.cidr.startswith("10.99."))
    group = next(g for g in ec2.security_groups() if g.vpc_id == subnet.vpc_id)
    return subnet, group.group_id


def save_shop(db: Database, sim: EmbeddedSimulator, ec2: Ec2Gateway) -> tuple[SubnetView, str]:
    subnet, group = drill_subnet(ec2)
    s = {h: sim.backend.server_id_of(h) for h in HOSTS}
    profile = DrillProfile(subnets=(subnet.subnet_id,), security_groups=(group,), production_cidrs=PRODUCTION)
    plan = RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="db", servers=(s["shop-db-01"],)),
            Wave(name="app", servers=(s["shop-app-01"], s["shop-app-02"], s["shop-web-01"])),
        ),
        drill_profile=profile,
    )
    save_plan(db, plan)
    return subnet, group


def templates(drs: DrsGateway, sim: EmbeddedSimulator) -> dict[str, str]:
    """server ID -> its launch template ID (as DRS names it)."""
    out = {}
    for host in HOSTS:
        server_id = sim.backend.server_id_of(host)
        out[server_id] = drs.launch_configuration(server_id).ec2_launch_template_id
    return out


def start(db: Database, drs: DrsGateway, sim: EmbeddedSimulator, mode: Mode = Mode.DRILL) -> ExecutionRunner:
    request = RunRequest(plan_name="Shop", mode=mode, poll_interval_seconds=30)
    return create_execution(db, drs, prepare_execution(db, drs, request), request, clock=sim.clock.now)


def sleeper(sim: EmbeddedSimulator) -> Any:
    return lambda seconds: sim.clock.advance(max(seconds, 1.0))


def landed(drs: DrsGateway, ec2: Ec2Gateway, runner: ExecutionRunner) -> dict[str, Any]:
    """server ID -> the EC2 instance its recovery instance of this run is."""
    jobs = set(runner.state.jobs)
    found = [i for i in drs.describe_recovery_instances(list(runner.state.servers)) if i.job_id in jobs]
    ec2_ids = {i.ec2_instance_id: i.source_server_id for i in found if i.ec2_instance_id}
    return {ec2_ids[v.instance_id]: v for v in ec2.instances(list(ec2_ids))}


def drill_versions(ec2: Ec2Gateway, template_id: str) -> list[int]:
    return [v.version for v in ec2.template_versions(template_id) if v.is_drill_version]


def defaults(ec2: Ec2Gateway, ids: dict[str, str]) -> dict[str, int]:
    return {s: ec2.template_versions(t, ["$Default"])[0].version for s, t in ids.items()}


def test_a_drill_launches_every_server_into_the_drill_subnet_and_restores_production_after(
    db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway]
) -> None:
    drs, ec2 = gateways
    subnet, group = save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    production = defaults(ec2, ids)
    runner = start(db, drs, sim)
    assert runner.state.spec.drill_net is not None
    assert runner.run(sleep=sleeper(sim)).outcome is Outcome.SUCCEEDED
    instances = landed(drs, ec2, runner)
    assert set(instances) == set(ids)
    assert {i.subnet_id for i in instances.values()} == {subnet.subnet_id}
    assert all(group in i.security_group_ids for i in instances.values())
    # production's templates are back, each with exactly one drill version made from its production one
    assert defaults(ec2, ids) == production
    assert all(len(drill_versions(ec2, t)) == 1 for t in ids.values())
    assert {n.status for n in runner.state.drill_net.values()} == {NetStatus.RESTORED}
    document = json.loads(reports.render_json(reports.load_execution_view(db, runner.execution_id)))
    net = document["drill_network"]
    assert net["subnet_id"] == subnet.subnet_id and net["not_restored"] == []
    row = net["servers"][0]
    assert row["production_version"] == production[row["server_id"]] and row["drill_version"] is not None
    assert row["pointed_at"] and row["restored_at"] and row["restored_at"] >= row["pointed_at"]
    assert "Drill network" in reports.render_html(reports.load_execution_view(db, runner.execution_id))


def test_a_recovery_never_touches_the_templates(
    db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway]
) -> None:
    drs, ec2 = gateways
    subnet, _ = save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    runner = start(db, drs, sim, Mode.RECOVERY)
    assert runner.state.spec.drill_net is None and runner.state.drill_net == {}
    runner.run(sleep=sleeper(sim))
    assert sim.backend.request_counts().get("ec2:CreateLaunchTemplateVersion", 0) == 0
    assert all(i.subnet_id != subnet.subnet_id for i in landed(drs, ec2, runner).values())
    assert all(drill_versions(ec2, t) == [] for t in ids.values())


class DiesAfterCreate(Ec2Gateway):
    """EC2 makes the first drill version; the process dies before it is made the default."""

    died = False

    def set_default_version(self, template_id: str, version: int) -> Any:
        if not DiesAfterCreate.died:
            DiesAfterCreate.died = True
            raise Crash
        return super().set_default_version(template_id, version)


@pytest.mark.parametrize("where", ["after the intent", "after CreateLaunchTemplateVersion"])
def test_a_crash_while_pointing_makes_no_second_drill_version_and_ends_restored(
    where: str, db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway]
) -> None:
    drs, ec2 = gateways
    subnet, _ = save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    production = defaults(ec2, ids)
    runner = start(db, drs, sim)
    if where == "after the intent":

        def die(before: ExecutionState, after: ExecutionState, event: Event) -> None:
            if isinstance(event, TemplatesPointRequested):
                raise Crash

        runner.add_listener(die)
    else:
        DiesAfterCreate.died = False
        runner.ec2_factory = DiesAfterCreate
    with pytest.raises(Crash):
        runner.run(sleep=sleeper(sim))
    assert {n.status for n in runner.state.drill_net.values()} >= {NetStatus.POINT_REQUESTED}
    runner.close()

    resumed = ExecutionRunner.resume(db, drs, runner.execution_id, clock=sim.clock.now)
    assert resumed.run(sleep=sleeper(sim)).outcome is Outcome.SUCCEEDED
    assert {i.subnet_id for i in landed(drs, ec2, resumed).values()} == {subnet.subnet_id}
    assert all(len(drill_versions(ec2, t)) == 1 for t in ids.values()), "a resend made a second version"
    assert defaults(ec2, ids) == production
    assert sim.backend.request_counts()["ec2:CreateLaunchTemplateVersion"] == len(ids) + (
        1 if where != "after the intent" else 0
    )


def test_a_template_someone_changed_during_the_drill_is_not_clobbered(
    db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway], target: AwsTarget
) -> None:
    drs, ec2 = gateways
    save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    production = defaults(ec2, ids)
    changed = sim.backend.server_id_of("shop-db-01")
    theirs: list[int] = []

    def colleague(before: ExecutionState, after: ExecutionState, event: Event) -> None:
        if isinstance(event, TemplatesRestoreRequested) and changed in event.server_ids and not theirs:
            other = Ec2Gateway(target)
            try:
                made = other.create_template_version(
                    ids[changed], LaunchTemplateData(instance_type="m5.large"), source_version=1
                )
                other.set_default_version(ids[changed], made.version)
                theirs.append(made.version)
            finally:
                other.close()

    runner = start(db, drs, sim)
    runner.add_listener(colleague)
    assert runner.run(sleep=sleeper(sim)).outcome is Outcome.SUCCEEDED
    now = defaults(ec2, ids)
    assert now[changed] == theirs[0], "the colleague's default was overwritten"
    assert {s: v for s, v in now.items() if s != changed} == {
        s: v for s, v in production.items() if s != changed
    }
    net = runner.state.drill_net[changed]
    assert net.status is NetStatus.FAILED and net.changed_to == theirs[0]
    document = json.loads(reports.render_json(reports.load_execution_view(db, runner.execution_id)))
    assert document["drill_network"]["not_restored"] == [changed]
    row = next(r for r in document["drill_network"]["servers"] if r["server_id"] == changed)
    assert row["changed_to"] == theirs[0] and "changed to" in row["error"]


class LosesSetDefaultAnswer(Ec2Gateway):
    """EC2 makes the drill version the default, but the answer is lost on its way back (a timeout)."""

    lost = False

    def set_default_version(self, template_id: str, version: int) -> Any:
        result = super().set_default_version(template_id, version)
        if not LosesSetDefaultAnswer.lost:
            LosesSetDefaultAnswer.lost = True
            raise DrsOutcomeUnknown("ModifyLaunchTemplate: the connection was reset before EC2 answered")
        return result


def test_a_point_whose_answer_was_lost_is_not_left_pointed_after_the_run(
    db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway]
) -> None:
    """Review (l-revdn): a lost ModifyLaunchTemplate answer was journaled as a failed point, the server's
    template left FAILED (not open), so the run finished with that template's default still the drill
    version: the next RECOVERY would launch that server into the drill network."""
    drs, ec2 = gateways
    subnet, _ = save_shop(db, sim, ec2)
    ids = templates(drs, sim)
    production = defaults(ec2, ids)
    LosesSetDefaultAnswer.lost = False
    runner = start(db, drs, sim)
    runner.ec2_factory = LosesSetDefaultAnswer
    runner.run(sleep=sleeper(sim), should_stop=lambda: is_held(runner.state))
    assert LosesSetDefaultAnswer.lost
    if runner.state.finished is None:  # held by the failed point: the operator cancels
        runner.control(Cancel(at=sim.clock.now(), by="operator"))
        runner.run(sleep=sleeper(sim))
    assert runner.state.finished is Outcome.SUCCEEDED, "the point took effect: the server launched"
    assert defaults(ec2, ids) == production, "a template was left pointed at the drill network"
    assert all(i.subnet_id == subnet.subnet_id for i in landed(drs, ec2, runner).values())
    document = json.loads(reports.render_json(reports.load_execution_view(db, runner.execution_id)))
    assert document["drill_network"]["not_restored"] == []


def test_with_two_drill_subnets_each_server_lands_in_the_one_of_its_production_zone(
    db: Database, sim: EmbeddedSimulator, gateways: tuple[DrsGateway, Ec2Gateway]
) -> None:
    drs, ec2 = gateways
    subnets = ec2.subnets()
    drill = [s for s in subnets if s.cidr.startswith("10.99.")]
    assert {s.availability_zone for s in drill} == {"us-east-1a", "us-east-1b"}
    group = next(g.group_id for g in ec2.security_groups(vpc_id=drill[0].vpc_id) if g.name == "drill-servers")
    hosts = {h: sim.backend.server_id_of(h) for h in HOSTS}
    profile = DrillProfile(
        subnets=tuple(s.subnet_id for s in drill), security_groups=(group,), production_cidrs=PRODUCTION
    )
    save_plan(
        db,
        RecoveryPlan(
            name="Shop", waves=(Wave(name="all", servers=tuple(hosts.values())),), drill_profile=profile
        ),
    )
    ids = templates(drs, sim)
    zone_of = {s.subnet_id: s.availability_zone for s in subnets}
    production_zone = {
        server: zone_of[ec2.template_versions(t, ["$Default"])[0].data.subnet_id or ""]
        for server, t in ids.items()
    }
    assert len(set(production_zone.values())) == 2, "the shop's servers are in both zones"
    runner = start(db, drs, sim)
    assert runner.run(sleep=sleeper(sim)).outcome is Outcome.SUCCEEDED
    for server, instance in landed(drs, ec2, runner).items():
        assert instance.subnet_id in {s.subnet_id for s in drill}
        assert zone_of[instance.subnet_id] == production_zone[server], server
    assert {n.subnet_id for n in runner.state.drill_net.values()} == {s.subnet_id for s in drill}
    document = json.loads(reports.render_json(reports.load_execution_view(db, runner.execution_id)))
    assert {row["subnet_id"] for row in document["drill_network"]["servers"]} == {s.subnet_id for s in drill}
