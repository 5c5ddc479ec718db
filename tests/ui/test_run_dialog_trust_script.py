"""RunDialog and a plan whose script step this desktop does not trust: the preflight fails on it, the dialog
offers "Trust…", which opens the trust confirmation (command and SHA-256, read on the ``local`` thread);
once trusted, a new check runs by itself and passes, and Run is enabled. Against the simulator, with the
desk's real task thread and a real script file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drs_desktop.domain.plan.automation import ScriptStep
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.preflight.automation import SCRIPTS
from drs_desktop.services.script_trust import ScriptTrustService
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from drs_desktop.ui.executions.run_dialog import RunDialog
from tests.services.settings_fixtures import memory_keyring_fixture  # noqa: F401
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import TIMEOUT, Running
from tests.ui.pane_tasks import pane_threads

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services
services_factory = helpers.services_factory
running = helpers.running

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def script(db: Database, sim: EmbeddedSimulator, tmp_path: Path) -> Path:
    """A plan "Announce" whose only wave runs a local script after its launch."""
    path = tmp_path / "announce.sh"
    path.write_text("#!/bin/sh\necho announced\n", encoding="utf-8")
    path.chmod(0o755)
    server = sim.backend.server_id_of("shop-db-01")
    step = ScriptStep(name="Announce", path=str(path), arguments=("--loud",))
    save_plan(db, RecoveryPlan(name="Announce", waves=(Wave(name="db", servers=(server,), after=(step,)),)))
    return path


def _checked(qtbot: QtBot, dialog: RunDialog) -> None:
    qtbot.waitUntil(
        lambda: dialog.check_button.isEnabled() and "Checking" not in dialog.verdict_text(), timeout=TIMEOUT
    )


def test_trust_opens_the_confirmation_and_a_new_check_passes_the_script(
    qtbot: QtBot, running: Running, sim: EmbeddedSimulator, db: Database, script: Path, memory_keyring: object
) -> None:
    with pane_threads(db) as threads:
        dialog = RunDialog(plan_names=["Shop", "Announce"], plan_name="Announce", now=sim.clock.now())
        dialog.connect_desk(running.desk)
        dialog.trust_row.connect_local(threads.local)
        qtbot.addWidget(dialog)
        dialog.show()
        assert not dialog.trust_row.isVisible()
        qtbot.mouseClick(dialog.check_button, LEFT)
        _checked(qtbot, dialog)
        report = dialog.report()
        assert report is not None and not report.ok and not dialog.run_button.isEnabled()
        (failed,) = [c for c in report.failures if c.name == SCRIPTS]
        assert f"{script} is not trusted on this desktop" in failed.message
        assert dialog.trust_row.isVisible() and str(script) in dialog.trust_row.label.text()

        qtbot.mouseClick(dialog.trust_row.trust_button, LEFT)
        confirmation = dialog.trust_row.dialog
        assert confirmation is not None and confirmation.isVisible()
        qtbot.waitUntil(lambda: confirmation.trust_button.isEnabled(), timeout=TIMEOUT)
        assert confirmation.command_label.text() == f"{script} --loud"
        assert confirmation.sha256_label.text() == hashlib.sha256(script.read_bytes()).hexdigest()
        assert (
            ScriptTrustService(db).status(str(script)).runnable is False
        )  # nothing trusted before the click

        qtbot.mouseClick(confirmation.trust_button, LEFT)
        # trusted on the local thread, then the run dialog checks again by itself
        qtbot.waitUntil(
            lambda: (
                (r := dialog.report()) is not None
                and any(c.name == SCRIPTS and c.status.value == "PASS" for c in r.checks)
            ),
            timeout=TIMEOUT,
        )
        _checked(qtbot, dialog)
        report = dialog.report()
        assert report is not None and report.ok and report.trustable_scripts == ()
        assert ScriptTrustService(db).status(str(script)).runnable
        assert not dialog.trust_row.isVisible()
        assert dialog.run_button.isEnabled()
