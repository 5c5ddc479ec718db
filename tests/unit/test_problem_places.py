"""Problems worded as the operator sees the plan (the editor), and server readiness from the inventory."""

from __future__ import annotations

from drs_desktop.domain.inventory import SourceServer
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, WaitStep, Wave
from drs_desktop.domain.plan.problem_places import place_of, problem_text, wave_label
from drs_desktop.domain.plan.validation import Problem, Severity, validate_plan
from drs_desktop.domain.preflight.server_readiness import not_ready_reason

S1, S2 = "s-00000000000000001", "s-00000000000000002"
PLAN = RecoveryPlan(
    "Shop",
    protection_groups=(ProtectionGroup("web", server_ids=(S2,)),),
    waves=(
        Wave("Databases", servers=(S1,)),
        Wave("Wave 2", groups=("web",), after=(WaitStep(5),)),
        Wave("Databases", depends_on=("Nope",)),
    ),
)


def test_places_name_waves_by_number_and_name_and_servers_by_hostname() -> None:
    names = {S1: "db-01"}
    assert wave_label(PLAN, 0) == "Wave 1 'Databases'"
    assert wave_label(PLAN, 1) == "Wave 2", "a wave named by its number is not named twice"
    assert place_of("waves[0].servers[0]", PLAN, names) == f"Wave 1 'Databases', server db-01 ({S1})"
    assert place_of("waves[1].groups[0]", PLAN) == "Wave 2, group 'web'"
    assert place_of("waves[1].after[0].wait_minutes", PLAN) == "Wave 2, step 1 after the wave"
    assert place_of("waves[2].depends_on[0]", PLAN) == "Wave 3 'Databases', dependencies"
    assert place_of("protection_groups[0].servers[0]", PLAN) == f"Protection group 'web', server {S2}"
    assert place_of("rpo_minutes", PLAN) == "RPO target"
    assert place_of("", PLAN) == ""


def test_problem_text_rewrites_the_paths_a_message_quotes() -> None:
    texts = [problem_text(p, PLAN) for p in validate_plan(PLAN)]
    assert "Wave 3 'Databases', name: duplicate wave name 'Databases' (Wave 1 'Databases')" in texts
    assert not any("waves[" in text for text in texts)
    warning = Problem("waves", "the plan has no waves", Severity.WARNING)
    assert problem_text(warning, PLAN) == "warning: Waves: the plan has no waves"
    assert str(validate_plan(PLAN)[0]).startswith("waves["), "plan files keep their field paths"


def test_not_ready_reasons_follow_preflight() -> None:
    assert not_ready_reason(SourceServer(S1, replication_state="CONTINUOUS", lag_seconds=30), 15) == ""
    assert not_ready_reason(SourceServer(S1, replication_state=""), 15) == "", "nothing known: no mark"
    stalled = not_ready_reason(SourceServer(S1, replication_state="STALLED"), None)
    assert stalled.startswith("replication is STALLED: replication has stopped")
    assert "disconnected" in not_ready_reason(SourceServer(S1, replication_state="DISCONNECTED"), None)
    lagging = SourceServer(S1, replication_state="BACKLOG", lag_seconds=1800)
    assert not_ready_reason(lagging, 15) == "replication lag 30 min is over the plan's RPO of 15 min"
    assert not_ready_reason(lagging, 60) == "" and not_ready_reason(lagging, None) == ""
