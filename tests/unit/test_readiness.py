"""domain.views.readiness and domain.views.drift: the dashboard's pure figures."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.engine.events import Outcome, StepPhase
from drs_desktop.domain.engine.state import (
    ExecutionState,
    Mode,
    ServerStatus,
    StepRecord,
    WavePhase,
    build_state,
    spec_from_plan,
)
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.domain.views.drift import (
    baseline_from_json,
    baseline_of,
    baseline_to_json,
    changes_since,
)
from drs_desktop.domain.views.readiness import (
    WaveTiming,
    predict_rto,
    rpo_breaches,
    server_lags,
    wave_timings,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)

PLAN = RecoveryPlan(
    name="Shop",
    waves=(
        Wave(name="DB", servers=("s-db",)),
        Wave(name="App", servers=("s-app",)),
        Wave(name="Web", servers=("s-web",), depends_on=("DB",)),  # runs beside App
    ),
)


def timing(ready: int, total: int) -> WaveTiming:
    return WaveTiming(to_ready=ready * MIN, total=total * MIN)


def test_prediction_is_each_waves_median_laid_along_the_dependencies() -> None:
    drills = [
        {"DB": timing(8, 10), "App": timing(18, 20), "Web": timing(5, 5)},
        {"DB": timing(10, 12), "App": timing(28, 30), "Web": timing(5, 6)},
        {"DB": timing(30, 40), "App": timing(20, 22), "Web": timing(5, 7)},
    ]
    predicted = predict_rto(PLAN, drills)
    assert [(w.name, w.total, w.samples) for w in predicted.waves] == [
        ("DB", 12 * MIN, 3),
        ("App", 22 * MIN, 3),
        ("Web", 6 * MIN, 3),
    ]
    # DB ends at 12; App (after DB) is ready at 12 + 20 = 32; Web (after DB only) at 12 + 5 = 17.
    assert predicted.total == 32 * MIN
    assert predicted.drills == 3 and predicted.missing == ()


def test_no_prediction_without_drills_or_with_a_wave_never_timed() -> None:
    none = predict_rto(PLAN, [])
    assert none.total is None and none.drills == 0
    partial = predict_rto(PLAN, [{"DB": timing(8, 10), "App": timing(18, 20)}])
    assert partial.total is None and partial.missing == ("Web",) and partial.drills == 1


def _finished_drill() -> ExecutionState:
    plan = RecoveryPlan(
        name="Shop",
        waves=(
            Wave(name="DB", servers=("s-db",)),
            Wave(name="App", servers=("s-a", "s-b"), optional=("s-b",)),
        ),
    )
    spec = spec_from_plan(
        plan, {"DB": ("s-db",), "App": ("s-a", "s-b")}, execution_id="e1", mode=Mode.DRILL, started_at=T0
    )
    state = build_state(spec)
    db, app = state.waves
    approval = StepRecord(
        phase=StepPhase.BEFORE,
        step_index=0,
        kind="approval",
        started_at=T0 + 10 * MIN,
        ended_at=T0 + 25 * MIN,
    )
    state = state.with_wave(replace(db, phase=WavePhase.COMPLETED, started_at=T0, completed_at=T0 + 10 * MIN))
    state = state.with_wave(
        replace(
            app,
            phase=WavePhase.COMPLETED,
            started_at=T0 + 10 * MIN,
            completed_at=T0 + 45 * MIN,
            steps=(approval,),
        )
    )
    ready = {"s-db": T0 + 9 * MIN, "s-a": T0 + 40 * MIN, "s-b": T0 + 44 * MIN}
    state = state.with_servers(
        *(replace(state.servers[s], status=ServerStatus.LAUNCHED, ready_at=at) for s, at in ready.items())
    )
    return replace(state, finished=Outcome.SUCCEEDED, finished_at=T0 + 45 * MIN)


def test_wave_timings_leave_approvals_out_and_end_at_the_critical_servers() -> None:
    state = _finished_drill()
    timings = wave_timings(state)
    assert timings["DB"] == timing(9, 10)
    # App: started at 10, its critical s-a ready at 40, minus 15 minutes of approval: 15; total 35 - 15.
    assert timings["App"] == timing(15, 20)
    assert wave_timings(replace(state, finished=Outcome.FAILED)) == {}, "a failed run times nothing"


def test_lag_breaches_against_the_rpo_worst_first() -> None:
    inventory = Inventory(
        servers=(
            SourceServer("s-1", hostname="db", lag_seconds=30, replication_state="CONTINUOUS"),
            SourceServer("s-2", hostname="fax", lag_seconds=7200, replication_state="STALLED"),
            SourceServer("s-3", hostname="app", lag_seconds=1000, replication_state="CONTINUOUS"),
            SourceServer("s-4", hostname="new", lag_seconds=None),
        )
    )
    lags = server_lags(["s-1", "s-2", "s-3", "s-4", "s-unknown"], inventory)
    assert [lag.label for lag in lags] == ["db", "fax", "app", "new"]
    breaches = rpo_breaches(lags, 15)
    assert [(b.label, b.lag_seconds, b.replication_state) for b in breaches] == [
        ("fax", 7200, "STALLED"),
        ("app", 1000, "CONTINUOUS"),
    ]
    assert rpo_breaches(lags, None) == ()


def test_changes_since_the_last_good_drill() -> None:
    then = Inventory(
        servers=(
            SourceServer("s-1", hostname="db", tags={"Tier": "db"}),
            SourceServer("s-2", hostname="app", tags={"Tier": "app"}),
            SourceServer("s-3", hostname="old", tags={}),
        )
    )
    configs = {
        "s-1": LaunchConfigView(source_server_id="s-1", launch_disposition="STARTED"),
        "s-2": LaunchConfigView(source_server_id="s-2"),
    }
    recorded = baseline_from_json(baseline_to_json(baseline_of(["s-1", "s-2", "s-3"], then, configs)))
    assert recorded is not None and recorded["s-1"].launch is not None and recorded["s-3"].launch is None
    now = Inventory(
        servers=(
            SourceServer("s-1", hostname="db", tags={"Tier": "db"}),
            SourceServer("s-2", hostname="app", tags={"Tier": "web", "Owner": "ops"}),
            SourceServer("s-4", hostname="new", tags={}),
        )
    )
    today_configs = {
        "s-1": LaunchConfigView(source_server_id="s-1", launch_disposition="STOPPED"),
        "s-2": LaunchConfigView(source_server_id="s-2"),
    }
    changes = changes_since(
        ["s-1", "s-2", "s-3"], recorded, baseline_of(["s-1", "s-2", "s-4"], now, today_configs)
    )
    assert [c.label for c in changes.added] == ["new"]
    assert [c.label for c in changes.removed] == ["old"]
    assert [(c.label, c.detail) for c in changes.retagged] == [
        ("app", "tag Owner added (ops); tag Tier: app -> web")
    ]
    assert [(c.label, c.detail) for c in changes.launch_changed] == [
        ("db", "launch_disposition: STARTED -> STOPPED")
    ]
    assert changes.count == 4 and changes.tags_compared and changes.launch_compared


def test_a_drill_without_a_recorded_baseline_compares_only_its_servers() -> None:
    today = baseline_of(["s-1", "s-2"], Inventory(servers=(SourceServer("s-1", tags={"a": "b"}),)))
    changes = changes_since(["s-1"], None, today)
    assert [c.server_id for c in changes.added] == ["s-2"] and changes.retagged == ()
    assert not changes.tags_compared and not changes.launch_compared
    assert baseline_from_json(None) is None and baseline_from_json({"s-1": "junk"}) is None
