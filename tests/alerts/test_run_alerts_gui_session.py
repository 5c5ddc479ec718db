"""The GUI's runs say their events too: a session's end waits (bounded) for its run alerts, so what a run
said is delivered before the run's thread ends and the app may quit."""

from __future__ import annotations

from datetime import UTC, datetime

from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.alert_routes import RouteKind
from drs_desktop.domain.engine.controls import ControlAction, ControlRequest
from drs_desktop.secrets import SecretStore
from drs_desktop.services.alerts import add_route
from drs_desktop.services.execution_session import ExecutionServices
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database
from tests.alerts.hook_server import HookServer
from tests.secrets.memory_keyring import MemoryKeyring
from tests.ui import execution_helpers as helpers
from tests.ui.execution_helpers import drill_session, instant_pace, step_until

sim = helpers.sim
db = helpers.db
gateway = helpers.gateway
services = helpers.services


def test_a_gui_run_says_its_end_before_its_session_closes(
    services: ExecutionServices,
    sim: EmbeddedSimulator,
    db: Database,
    hook: HookServer,
    memory_keyring: MemoryKeyring,
) -> None:
    add_route(
        db,
        SecretStore(),
        plan_name="Shop",
        kind=RouteKind.JSON,
        label="ops",
        target=hook.url(),
        kinds=[AlertKind.RUN_SUCCEEDED],
        now=datetime.now(UTC),
    )
    session = drill_session(services)
    step_until(session, sim, lambda s: bool(s.approvals))
    assert session.submit(ControlRequest(ControlAction.APPROVE, wave_index=1))
    result = session.drive(lambda _snapshot: None, pace=instant_pace(sim, 3600))
    assert result.outcome is not None and result.outcome.value == "SUCCEEDED"
    session.close()
    assert [r.body["kind"] for r in hook.received] == ["run-succeeded"]
    assert hook.received[0].body["execution_id"] == session.execution_id
