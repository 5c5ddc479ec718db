"""Every preflight says when a server's launch template has a drill version as its default (a drill under
way, or one a kill left behind): a RECOVERY would launch into the drill network. On the simulator (DRS and
EC2 over loopback HTTP, real boto3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.ec2 import LaunchTemplateData, drill_description
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.preflight.rules import CheckStatus
from drs_desktop.services.executions import RunRequest, prepare_execution
from drs_desktop.services.preflight import preflight
from drs_desktop.services.preflight_drill_versions import DRILL_VERSIONS
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def _checks(db: Database, drs: DrsGateway, mode: Mode, sim: EmbeddedSimulator) -> list[tuple[str, str]]:
    request = RunRequest(plan_name="Shop", mode=mode)
    report = preflight(db, drs, prepare_execution(db, drs, request), request, now=sim.clock.now())
    return [(c.status.value, c.message) for c in report.checks if c.name == DRILL_VERSIONS]


def test_a_template_left_on_a_drill_version_fails_every_preflight_until_it_is_restored(
    sim: EmbeddedSimulator, tmp_path: Path
) -> None:
    target = AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)
    drs, ec2 = DrsGateway(target), Ec2Gateway(target)
    try:
        with Database.open(tmp_path / "drs.sqlite3") as db:
            db_server, web_server = (
                sim.backend.server_id_of("shop-db-01"),
                sim.backend.server_id_of("shop-web-01"),
            )
            save_plan(
                db, RecoveryPlan(name="Shop", waves=(Wave(name="all", servers=(db_server, web_server)),))
            )
            assert _checks(db, drs, Mode.RECOVERY, sim) == []  # nothing pointed: nothing said
            template = drs.launch_configuration(db_server).ec2_launch_template_id
            (production,) = ec2.template_versions(template, ["$Default"])
            drill = next(s for s in ec2.subnets() if s.cidr.startswith("10.99."))
            left = ec2.create_template_version(
                template,
                LaunchTemplateData(subnet_id=drill.subnet_id),
                source_version=production.version,
                description=drill_description("0123456789abcdef", production.version),
            )
            ec2.set_default_version(template, left.version)  # a drill killed while pointed

            for mode in (Mode.RECOVERY, Mode.DRILL):
                ((status, message),) = _checks(db, drs, mode, sim)
                assert status == CheckStatus.FAIL.value and db_server in message and web_server not in message
                assert "launch-settings restore --plan Shop " in message
            assert "launch them into the drill network" in _checks(db, drs, Mode.RECOVERY, sim)[0][1]

            ec2.set_default_version(template, production.version)  # restored
            assert _checks(db, drs, Mode.RECOVERY, sim) == []
    finally:
        drs.close()
        ec2.close()
