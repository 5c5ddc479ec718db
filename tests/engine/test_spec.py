"""Execution specs: built from a plan, refused when they cannot run."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from drs_desktop.domain.engine.reducer import initial_state
from drs_desktop.domain.engine.state import Mode, spec_from_plan, spec_problems
from drs_desktop.domain.plan.model import ApprovalStep, RecoveryPlan, Wave

from .helpers import T0, sid, sids, spec, wave


def test_a_spec_from_a_plan_keeps_dependencies_optional_servers_steps_and_rto() -> None:
    plan = RecoveryPlan(
        name="payments",
        rto_minutes=60,
        waves=(
            Wave(
                name="db",
                servers=sids(1, 2),
                optional=(sid(2), sid(99)),
                before=(ApprovalStep(message="go?"),),
            ),
            Wave(name="app", groups=("web",)),
            Wave(name="batch", depends_on=()),
        ),
    )
    resolved = {"db": sids(1, 2), "app": (sid(3), sid(3), sid(4)), "batch": ()}
    result = spec_from_plan(
        plan, resolved, execution_id="e-1", mode=Mode.RECOVERY, started_at=T0, post_launch=[sid(3)]
    )
    db, app, batch = result.waves
    assert db.optional == (sid(2),)  # optional IDs not in the wave are dropped
    assert db.before == (ApprovalStep(message="go?"),)
    assert app.server_ids == (sid(3), sid(4)) and app.depends_on == ("db",)  # default: the previous wave
    assert app.post_launch == (sid(3),)
    assert batch.depends_on == ()  # an explicit empty list: starts at once
    assert (result.plan_name, result.rto_target, result.mode) == (
        "payments",
        timedelta(minutes=60),
        Mode.RECOVERY,
    )
    state = initial_state(result)
    assert [w.phase.value for w in state.waves] == ["BEFORE", "BLOCKED", "COMPLETED"]


def test_settings_pass_through_to_the_spec() -> None:
    plan = RecoveryPlan(name="p", waves=(Wave(name="w", servers=sids(1, 1)),))
    result = spec_from_plan(
        plan,
        {"w": sids(1, 1)},
        execution_id="e",
        mode=Mode.DRILL,
        started_at=T0,
        wave_timeout=timedelta(hours=1),
    )
    assert result.wave_timeout == timedelta(hours=1) and result.rto_target is None


@pytest.mark.parametrize(
    ("waves", "settings", "problem"),
    [
        ((wave("a", sids(1, 1)), wave("a", sids(2, 1))), {}, "wave names must be unique"),
        ((wave("a", sids(1, 1)), wave("b", sids(1, 1))), {}, f"{sid(1)} is in wave 'a' and in wave 'b'"),
        ((wave("a", sids(1, 1), depends_on=("zz",)),), {}, "wave 'a' depends on unknown wave 'zz'"),
        (
            (wave("a", sids(1, 1), depends_on=("b",)), wave("b", sids(2, 1), depends_on=("a",))),
            {},
            "the wave dependencies form a cycle, so some wave could never start",
        ),
        (
            (wave("a", sids(1, 2)),),
            {"point_in_time": T0, "snapshot_ids": {sid(1): "pit-1"}},
            f"no recovery snapshot chosen for 1 server(s): {sid(2)}",
        ),
        ((wave("a", sids(1, 1)),), {"wave_timeout": timedelta(0)}, "wave_timeout must be positive"),
    ],
)
def test_specs_that_cannot_run_are_refused_with_the_reason(
    waves: tuple, settings: dict, problem: str
) -> None:
    bad = spec(*waves, **settings)
    assert problem in spec_problems(bad)
    with pytest.raises(ValueError, match="cannot run this execution"):
        initial_state(bad)


def test_a_naive_start_time_is_refused() -> None:
    naive = replace(spec(wave("a", sids(1, 1))), started_at=T0.replace(tzinfo=None))
    assert "started_at must be timezone-aware" in spec_problems(naive)
