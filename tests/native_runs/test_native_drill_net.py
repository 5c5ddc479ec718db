"""Review (l-revdn): a run in DRS of a plan with a drill profile. DRS launches from each launch template's
default version and the desktop starts no job itself, so nothing points the templates at the drill network:
such a drill would land in the production network. Its preflight must say so and block it, not claim (as
it did) that each template is pointed at the drill subnet before it launches."""

from __future__ import annotations

import dataclasses

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.native_runs import NativeRunsGateway
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.preflight.checks import CheckStatus
from drs_desktop.domain.preflight.rules import DRILL_NETWORK
from drs_desktop.services.native_publish import publish
from drs_desktop.services.native_run import prepare_native
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.runner.conftest import virtual_clock

from .conftest import PLAN, request, shop_plan


def _publish_with_profile(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator) -> None:
    ec2 = Ec2Gateway(gateway.target)
    try:
        subnet = next(s for s in ec2.subnets() if s.cidr.startswith("10.99."))
        group = next(g for g in ec2.security_groups() if g.vpc_id == subnet.vpc_id)
    finally:
        ec2.close()
    profile = DrillProfile(
        subnets=(subnet.subnet_id,), security_groups=(group.group_id,), production_cidrs=("10.20.0.0/16",)
    )
    save_plan(db, dataclasses.replace(shop_plan(sim), drill_profile=profile))
    result = publish(db, NativeRunsGateway(gateway), PLAN, sleep=lambda _: None, clock=sim.clock.now)
    assert result.outcome == "published", result


def test_a_drill_in_drs_of_a_plan_with_a_drill_profile_is_blocked_by_its_preflight(
    db: Database, gateway: DrsGateway, sim: EmbeddedSimulator
) -> None:
    _publish_with_profile(db, gateway, sim)
    clock, _ = virtual_clock(sim)
    preparation = prepare_native(db, gateway, request(Mode.DRILL), now=clock())
    found = [c for c in preparation.report.checks if c.name == DRILL_NETWORK]
    assert [c.status for c in found] == [CheckStatus.FAIL], found
    assert "run in DRS" in found[0].message
    assert preparation.prepared.native is not None
