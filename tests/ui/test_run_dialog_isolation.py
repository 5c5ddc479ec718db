"""RunDialog and a drill whose network is not isolated from production: the isolation check fails, Run stays
off, the dialog asks for a reason; with one, the check is run again, passes as a warning naming it, and the
run carries the reason. Against the simulator (DRS and EC2), the checks on the desk's task thread."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.aws.ec2 import Ec2Gateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.controls import RunChoice
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.preflight.rules import ISOLATION, CheckStatus
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.run_dialog import RunDialog
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Running

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
services_factory = helpers.services_factory
running = helpers.running

LEFT = Qt.MouseButton.LeftButton
REASON = "CAB-1234: the drill VPC is being rebuilt, firewalls block production"


@pytest.fixture
def leaky_plan(db: Database, sim: EmbeddedSimulator) -> str:
    """A plan whose drill profile names a production subnet: its drills would reach production."""
    ec2 = Ec2Gateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
    try:
        subnet = next(s for s in ec2.subnets() if s.cidr.startswith("10.20."))
    finally:
        ec2.close()
    profile = DrillProfile(subnets=(subnet.subnet_id,), production_cidrs=("10.20.0.0/16",))
    server = sim.backend.server_id_of("shop-db-01")
    save_plan(
        db, RecoveryPlan(name="Leaky", waves=(Wave(name="db", servers=(server,)),), drill_profile=profile)
    )
    return "Leaky"


def _check(qtbot: QtBot, dialog: RunDialog) -> None:
    qtbot.mouseClick(dialog.check_button, LEFT)
    qtbot.waitUntil(
        lambda: dialog.check_button.isEnabled() and "Checking" not in dialog.verdict_text(), timeout=TIMEOUT
    )


def test_a_drill_into_a_network_that_reaches_production_needs_a_reason(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, leaky_plan: str
) -> None:
    dialog = RunDialog(plan_names=["Shop", leaky_plan], plan_name=leaky_plan, now=sim.clock.now())
    dialog.connect_desk(running.desk)
    qtbot.addWidget(dialog)
    dialog.show()
    runs: list[tuple[object, RunChoice]] = []
    dialog.run_requested.connect(lambda prepared, choice: runs.append((prepared, choice)))
    assert not dialog.override_edit.isVisible()
    _check(qtbot, dialog)
    report = dialog.report()
    assert report is not None and any(c.name == ISOLATION for c in report.failures)
    assert not dialog.run_button.isEnabled()
    assert dialog.override_edit.isVisible()

    qtbot.keyClicks(dialog.override_edit, REASON)
    assert "check again" in dialog.verdict_text() and not dialog.run_button.isEnabled()
    _check(qtbot, dialog)
    report = dialog.report()
    assert report is not None and report.ok
    overridden = [c for c in report.checks if c.name == ISOLATION and c.status is CheckStatus.WARN]
    assert overridden and all(REASON in c.message for c in overridden if "production" in c.message)
    assert dialog.run_button.isEnabled()
    qtbot.mouseClick(dialog.run_button, LEFT)
    assert [choice for _, choice in runs] == [RunChoice(leaky_plan, Mode.DRILL, isolation_override=REASON)]

    dialog.recovery_radio.setChecked(True)  # a recovery never uses the drill profile: no reason asked
    assert not dialog.override_edit.isVisible() and dialog.choice().isolation_override == ""
