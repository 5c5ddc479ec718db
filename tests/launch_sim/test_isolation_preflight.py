"""A drill's preflight checks its drill network's isolation (a plan with a drill profile); a failing check
blocks the drill unless the operator overrides it with a reason, which the execution and its evidence keep.
On the simulator (DRS and EC2 over loopback HTTP, real boto3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.preflight.rules import ISOLATION, CheckStatus
from drs_desktop.services import reports
from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
from drs_desktop.services.preflight import preflight
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan

PRODUCTION = ("10.20.0.0/16", "172.16.0.0/12")


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


@pytest.fixture
def target(sim: EmbeddedSimulator) -> AwsTarget:
    return AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.sqlite3") as database:
        yield database


def _plan(db: Database, target: AwsTarget, sim: EmbeddedSimulator, *, drill_vpc: bool) -> None:
    ec2 = Ec2Gateway(target)
    try:
        prefix = "10.99." if drill_vpc else "10.20."
        subnet = next(s for s in ec2.subnets() if s.cidr.startswith(prefix))
        group = next(g for g in ec2.security_groups() if g.vpc_id == subnet.vpc_id)
    finally:
        ec2.close()
    server = sim.backend.server_id_of("shop-db-01")
    profile = DrillProfile(
        subnets=(subnet.subnet_id,), security_groups=(group.group_id,), production_cidrs=PRODUCTION
    )
    save_plan(
        db, RecoveryPlan(name="Shop", waves=(Wave(name="db", servers=(server,)),), drill_profile=profile)
    )


def _isolation(
    db: Database, gateway: DrsGateway, request: RunRequest, sim: EmbeddedSimulator
) -> list[tuple[str, str]]:
    prepared = prepare_execution(db, gateway, request)
    report = preflight(db, gateway, prepared, request, now=sim.clock.now())
    return [(c.status.value, c.message) for c in report.checks if c.name == ISOLATION]


def test_a_drill_into_an_isolated_network_passes(
    db: Database, target: AwsTarget, sim: EmbeddedSimulator
) -> None:
    _plan(db, target, sim, drill_vpc=True)
    gateway = DrsGateway(target)
    try:
        found = _isolation(db, gateway, RunRequest(plan_name="Shop", mode=Mode.DRILL), sim)
        assert [status for status, _ in found] == ["PASS"]
        # a recovery never uses the drill profile: no isolation check at all
        assert _isolation(db, gateway, RunRequest(plan_name="Shop", mode=Mode.RECOVERY), sim) == []
    finally:
        gateway.close()


def test_a_drill_network_that_reaches_production_blocks_the_drill_unless_overridden_with_a_reason(
    db: Database, target: AwsTarget, sim: EmbeddedSimulator
) -> None:
    _plan(db, target, sim, drill_vpc=False)
    gateway = DrsGateway(target)
    try:
        request = RunRequest(plan_name="Shop", mode=Mode.DRILL)
        blocked = _isolation(db, gateway, request, sim)
        assert "FAIL" in [status for status, _ in blocked]
        assert any("internet-gateway" in message for _, message in blocked)
        reason = "CAB-1234: the drill VPC is being rebuilt; firewall rules block production"
        overridden = RunRequest(plan_name="Shop", mode=Mode.DRILL, isolation_override=reason)
        found = _isolation(db, gateway, overridden, sim)
        assert found and all(status != CheckStatus.FAIL.value for status, _ in found)
        assert all(
            reason in message
            for status, message in found
            if status == "WARN" and "reaches production" in message
        )
        runner = create_execution(db, gateway, prepare_execution(db, gateway, overridden), overridden)
        assert runner.record.options["isolation_override"] == reason
        document = json.loads(reports.render_json(reports.load_execution_view(db, runner.execution_id)))
        assert document["execution"]["isolation_override"] == reason
        assert reason in reports.render_html(reports.load_execution_view(db, runner.execution_id))
    finally:
        gateway.close()
