"""The progress view of a run whose server another DRS job holds (issue 10, item 1): the server's row
and the header say which job holds it, since when and who started it; skip and cancel stay offered.
The state is the engine's own, folded from the events a runner journals when DRS refuses the start with
a Conflict and the look at the account's jobs names the holder."""

from __future__ import annotations

from datetime import UTC, datetime

from pytestqt.qtbot import QtBot

from drs_desktop.domain.drs.observations import external_load
from drs_desktop.domain.drs.views import DrsJobServerView, DrsJobView
from drs_desktop.domain.engine.events import JobStatus, LaunchStatus, StartFailed, StartRequested
from drs_desktop.domain.engine.reducer import apply, initial_state
from drs_desktop.domain.engine.state import ExecutionSpec, ExecutionState, Mode, WaveSpec
from drs_desktop.domain.views.progress import ProgressTracker
from drs_desktop.ui.executions.progress_model import PHASE, ProgressTreeModel
from drs_desktop.ui.executions.progress_widget import ProgressWidget

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SERVER = "s-00000000000000001"
HOLDER = "drsjob-0123456789abcdef0"


def held_state() -> ExecutionState:
    spec = ExecutionSpec(
        execution_id="exec-busy",
        mode=Mode.DRILL,
        started_at=T0,
        plan_name="busy",
        waves=(WaveSpec(name="web", server_ids=(SERVER,)),),
    )
    state = initial_state(spec)
    state = apply(state, StartRequested(chunk_id="1.1", at=T0))
    state = apply(
        state, StartFailed(chunk_id="1.1", reason="ConflictException", definite=True, at=T0, busy=True)
    )
    other = DrsJobView(
        job_id=HOLDER,
        status=JobStatus.STARTED,
        initiated_by="START_DRILL",
        created_at=datetime(2026, 3, 1, 9, 52, tzinfo=UTC),
        tags={"owner": "team-b", "resourceArn": "arn:aws:drs:..."},
        servers=(DrsJobServerView(source_server_id=SERVER, launch_status=LaunchStatus.IN_PROGRESS),),
    )
    return apply(state, external_load(state, [other], T0))


def test_the_row_and_the_header_name_the_job_holding_the_server(qtbot: QtBot) -> None:
    snapshot = ProgressTracker().update(held_state(), T0)
    assert snapshot is not None
    model = ProgressTreeModel()
    model.set_snapshot(snapshot)
    row = model.index(0, PHASE, model.index(0, 0))
    expected = f"waiting: held by job {HOLDER} (START_DRILL, since 09:52 UTC)"
    assert model.data(row) == expected
    widget = ProgressWidget()
    qtbot.addWidget(widget)
    widget.show_snapshot(snapshot)
    assert f"wave web: waiting: 1 server held by job {HOLDER}" in widget.header.text()
    assert widget.cancel_button.isEnabled() and widget.skip_button.isEnabled()
    assert snapshot.controls.skip_waves == (0,)
