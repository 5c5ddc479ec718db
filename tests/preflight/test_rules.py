"""The preflight rules, one by one, on hand-built plans and inventories (pure: no DRS, no database)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest

from drs_desktop.domain.engine.chunking import Limits
from drs_desktop.domain.engine.recovery_point import RecoverySnapshot, choose_snapshots
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan, Wave
from drs_desktop.domain.plan.validation import resolve_wave_servers
from drs_desktop.domain.preflight.checks import (
    Check,
    CheckStatus,
    OtherExecution,
    PreflightReport,
    confirmation_problem,
    run_checks,
)

from .conftest import NOW, config, inventory_of, server, sid


def checks_for(
    plan: RecoveryPlan,
    inventory: Inventory,
    *,
    mode: Mode = Mode.DRILL,
    active_jobs: Sequence[tuple[str, Sequence[str], bool]] = (),
    launch_configs: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    rpo_minutes: int | None = None,
    **kwargs: Any,
) -> list[Check]:
    """run_checks with the plan's waves resolved against the inventory and a good launch config each."""
    wave_servers = {w.name: resolve_wave_servers(plan, i, inventory) for i, w in enumerate(plan.waves)}
    if launch_configs is None:
        launch_configs = {s.source_server_id: config(s.source_server_id) for s in inventory.servers}
    return run_checks(
        plan,
        wave_servers,
        inventory,
        mode=mode,
        active_jobs=active_jobs,
        launch_configs=launch_configs,
        limits=limits or Limits(),
        rpo_minutes=rpo_minutes if rpo_minutes is not None else plan.rpo_minutes,
        now=NOW,
        **kwargs,
    )


def named(checks: Sequence[Check], name: str) -> list[Check]:
    return [c for c in checks if c.name == name]


def statuses(checks: Sequence[Check], name: str) -> list[CheckStatus]:
    return [c.status for c in named(checks, name)]


def two_waves(*, optional: tuple[str, ...] = (), rpo: int | None = None) -> RecoveryPlan:
    return RecoveryPlan(
        name="Shop",
        rpo_minutes=rpo,
        waves=(
            Wave(name="DB", servers=(sid(1),)),
            Wave(name="App", servers=(sid(2), sid(3)), optional=optional),
        ),
    )


HEALTHY = inventory_of(server(1), server(2), server(3))


def test_a_healthy_plan_passes_every_check() -> None:
    checks = checks_for(two_waves(rpo=15), HEALTHY)
    assert {c.status for c in checks} == {CheckStatus.PASS}
    names = [c.name for c in checks]
    for name in ("plan", "inventory", "known-servers", "replication", "lag", "launch-config", "busy-servers"):
        assert name in names
    assert named(checks, "replication")[0].message == "3 server(s) replicating (CONTINUOUS)"
    assert "3 server(s) within the RPO of 15 min" in named(checks, "lag")[0].message
    report = PreflightReport(tuple(checks))
    assert report.ok and not report.failures and not report.warnings


def test_an_unknown_server_fails_once_with_its_wave() -> None:
    inventory = inventory_of(server(1), server(2))  # sid(3) is not in the account
    checks = checks_for(two_waves(), inventory)
    (unknown,) = named(checks, "known-servers")
    assert unknown.status is CheckStatus.FAIL
    assert (unknown.server_id, unknown.wave) == (sid(3), "App")
    assert "ResourceNotFound" in unknown.message
    # validate_plan reports it too; preflight says it once.
    assert not any(sid(3) in c.message for c in named(checks, "plan"))


def test_an_unknown_optional_server_still_fails_because_drs_refuses_the_whole_job() -> None:
    checks = checks_for(two_waves(optional=(sid(3),)), inventory_of(server(1), server(2)))
    assert statuses(checks, "known-servers") == [CheckStatus.FAIL]


@pytest.mark.parametrize(
    "state", ["STALLED", "PAUSED", "INITIATING", "INITIAL_SYNC", "DISCONNECTED", "STOPPED", ""]
)
def test_a_critical_server_that_cannot_launch_fails(state: str) -> None:
    inventory = inventory_of(server(1, state, lag=7200), server(2), server(3))
    checks = checks_for(two_waves(), inventory)
    failures = [c for c in named(checks, "replication") if c.status is CheckStatus.FAIL]
    assert [(c.server_id, c.wave) for c in failures] == [(sid(1), "DB")]
    assert f"replication is {state or 'UNKNOWN'}" in failures[0].message
    assert named(checks, "replication")[0].message == "2 server(s) replicating (CONTINUOUS)"


def test_an_optional_server_that_cannot_launch_is_a_warning() -> None:
    inventory = inventory_of(server(1), server(2), server(3, "STALLED", lag=7200))
    checks = checks_for(two_waves(optional=(sid(3),)), inventory)
    (warning,) = [c for c in named(checks, "replication") if c.server_id == sid(3)]
    assert warning.status is CheckStatus.WARN
    assert "optional" in warning.message
    assert PreflightReport(tuple(checks)).ok


@pytest.mark.parametrize("state", ["BACKLOG", "RESCAN", "CREATING_SNAPSHOT"])
def test_a_catching_up_server_is_a_warning_not_a_failure(state: str) -> None:
    checks = checks_for(two_waves(), inventory_of(server(1, state), server(2), server(3)))
    assert sorted(statuses(checks, "replication")) == [CheckStatus.PASS, CheckStatus.WARN]


def test_a_stalled_server_with_a_chosen_snapshot_launches_from_it() -> None:
    inventory = inventory_of(server(1, "STALLED", lag=7200), server(2), server(3))
    point = NOW - timedelta(hours=3)
    snapshots = [RecoverySnapshot(f"pit-{n:017x}", sid(n), point - timedelta(minutes=5)) for n in (1, 2, 3)]
    choice = choose_snapshots(point, [sid(1), sid(2), sid(3)], snapshots)
    checks = checks_for(two_waves(rpo=15), inventory, snapshot_choice=choice)
    (stalled,) = [c for c in named(checks, "replication") if c.server_id == sid(1)]
    assert stalled.status is CheckStatus.WARN
    assert "chosen for the point in time" in stalled.message
    assert PreflightReport(tuple(checks)).ok


def test_lag_over_the_rpo_fails_a_critical_server_and_warns_for_an_optional_one() -> None:
    inventory = inventory_of(server(1, lag=1800), server(2), server(3, lag=3600))
    checks = checks_for(two_waves(optional=(sid(3),), rpo=15), inventory)
    lag = named(checks, "lag")
    assert [(c.status, c.server_id) for c in lag] == [
        (CheckStatus.PASS, None),
        (CheckStatus.FAIL, sid(1)),
        (CheckStatus.WARN, sid(3)),
    ]
    assert lag[0].message.startswith("1 server(s) within the RPO of 15 min")
    assert "replication lag 30 min is over the plan's RPO of 15 min" in lag[1].message


def test_lag_exactly_at_the_rpo_passes() -> None:
    checks = checks_for(two_waves(rpo=15), inventory_of(server(1, lag=900), server(2), server(3)))
    assert statuses(checks, "lag") == [CheckStatus.PASS]


def test_without_an_rpo_the_largest_lag_is_reported_as_information() -> None:
    inventory = inventory_of(server(1, lag=12), server(2, lag=95, hostname="slow-app"), server(3))
    (lag,) = named(checks_for(two_waves(), inventory), "lag")
    assert lag.status is CheckStatus.PASS
    assert lag.message == f"no RPO in the plan; the largest replication lag is 1 min (slow-app ({sid(2)}))"


def test_the_rpo_argument_wins_over_the_plan() -> None:
    inventory = inventory_of(server(1, lag=600), server(2), server(3))
    assert CheckStatus.FAIL in statuses(checks_for(two_waves(rpo=60), inventory, rpo_minutes=5), "lag")


def test_a_replicating_server_without_lag_cannot_be_checked_against_the_rpo() -> None:
    checks = checks_for(two_waves(rpo=15), inventory_of(server(1, lag=None), server(2), server(3)))
    assert (CheckStatus.WARN, sid(1)) in [(c.status, c.server_id) for c in named(checks, "lag")]


def test_a_stalled_servers_growing_lag_is_left_to_the_replication_check() -> None:
    checks = checks_for(two_waves(rpo=15), inventory_of(server(1, "STALLED", lag=7200), server(2), server(3)))
    assert not [c for c in named(checks, "lag") if c.server_id == sid(1)]
    assert CheckStatus.FAIL in statuses(checks, "replication")


def test_point_in_time_data_age_is_compared_with_the_rpo_and_missing_snapshots_fail() -> None:
    point = NOW - timedelta(days=1)
    snapshots = [
        RecoverySnapshot("pit-00000000000000001", sid(1), point - timedelta(minutes=5)),
        RecoverySnapshot("pit-00000000000000002", sid(2), point - timedelta(hours=2)),
        RecoverySnapshot("pit-00000000000000003", sid(3), point + timedelta(hours=1)),  # after T only
    ]
    choice = choose_snapshots(point, [sid(1), sid(2), sid(3)], snapshots)
    checks = checks_for(two_waves(rpo=30), HEALTHY, snapshot_choice=choice)
    snapshot_checks = named(checks, "snapshots")
    assert [(c.status, c.server_id) for c in snapshot_checks] == [
        (CheckStatus.PASS, None),
        (CheckStatus.FAIL, sid(3)),
    ]
    assert (
        "a snapshot chosen for 2 server(s); the oldest was taken 2 h before it" in snapshot_checks[0].message
    )
    assert [(c.status, c.server_id) for c in named(checks, "lag") if c.status is not CheckStatus.PASS] == [
        (CheckStatus.FAIL, sid(2))
    ]
    assert "data age before the point in time 2 h" in named(checks, "lag")[1].message


def test_without_a_point_in_time_every_server_launches_from_its_latest_data() -> None:
    (check,) = named(checks_for(two_waves(), HEALTHY), "snapshots")
    assert check.status is CheckStatus.PASS and "latest data" in check.message


def test_a_server_in_an_active_job_warns_that_the_run_will_wait_for_it() -> None:
    jobs = [
        ("drsjob-00000000000000001", (sid(3), sid(9)), True),
        ("drsjob-00000000000000002", (sid(1),), False),  # completed: no longer holds sid(1)
    ]
    checks = checks_for(two_waves(optional=(sid(3),)), HEALTHY, active_jobs=jobs)
    (busy,) = named(checks, "busy-servers")
    assert (busy.status, busy.server_id, busy.wave) == (CheckStatus.WARN, sid(3), "App")
    assert "drsjob-00000000000000001" in busy.message and "the run will wait" in busy.message


def test_no_busy_server_passes_and_counts_the_accounts_active_jobs() -> None:
    jobs = [("drsjob-00000000000000001", (sid(9),), True)]
    (busy,) = named(checks_for(two_waves(), HEALTHY, active_jobs=jobs), "busy-servers")
    assert busy.status is CheckStatus.PASS and "1 active job(s)" in busy.message


def big_inventory(count: int) -> Inventory:
    return inventory_of(*(server(n) for n in range(1, count + 1)))


def one_wave_of(count: int) -> RecoveryPlan:
    return RecoveryPlan(
        name="Big", waves=(Wave(name="All", servers=tuple(sid(n) for n in range(1, count + 1))),)
    )


def test_a_wave_over_one_job_is_split_like_the_engine_does() -> None:
    checks = checks_for(one_wave_of(250), big_inventory(250))
    (size,) = named(checks, "wave-size")
    assert size.status is CheckStatus.PASS
    assert size.message.startswith("wave 'All': 250 servers, split into 3 jobs (100 + 100 + 50;")
    # validate_plan's own warning about the split is not repeated.
    assert statuses(checks, "plan") == [CheckStatus.PASS]
    assert statuses(checks, "quotas") == [CheckStatus.PASS]


def test_jobs_that_do_not_fit_beside_the_accounts_load_queue_with_a_warning() -> None:
    busy_elsewhere = [(f"drsjob-{n:017x}", (sid(1000 + n),), True) for n in range(18)]
    checks = checks_for(one_wave_of(250), big_inventory(250), active_jobs=busy_elsewhere)
    (quota,) = named(checks, "quotas")
    assert quota.status is CheckStatus.WARN
    assert "3 job(s) with 250 server(s)" in quota.message
    assert "1 of them wait for quota" in quota.message
    assert PreflightReport(tuple(checks)).ok, "queueing is not a failure"


def test_the_500_server_budget_queues_the_sixth_job_of_a_600_server_wave() -> None:
    (quota,) = named(checks_for(one_wave_of(600), big_inventory(600)), "quotas")
    assert quota.status is CheckStatus.WARN
    assert "6 job(s) with 600 server(s)" in quota.message and "1 of them wait" in quota.message


def test_waves_with_the_same_dependencies_are_sized_together() -> None:
    plan = RecoveryPlan(
        name="Parallel",
        waves=tuple(
            Wave(name=f"W{w}", servers=tuple(sid(w * 100 + n) for n in range(100)), depends_on=())
            for w in range(6)
        ),
    )
    inventory = inventory_of(*(server(w * 100 + n) for w in range(6) for n in range(100)))
    (quota,) = named(checks_for(plan, inventory), "quotas")
    assert quota.status is CheckStatus.WARN and "6 job(s) with 600 server(s)" in quota.message


def test_a_missing_launch_configuration_fails_a_critical_server_and_warns_for_an_optional_one() -> None:
    configs = {sid(1): None, sid(2): config(sid(2)), sid(3): None}
    checks = checks_for(two_waves(optional=(sid(3),)), HEALTHY, launch_configs=configs)
    assert [(c.status, c.server_id) for c in named(checks, "launch-config")] == [
        (CheckStatus.PASS, None),
        (CheckStatus.FAIL, sid(1)),
        (CheckStatus.WARN, sid(3)),
    ]


def test_launch_configuration_oddities_are_warnings() -> None:
    configs = {
        sid(1): config(sid(1), ec2_launch_template_id=""),
        sid(2): config(sid(2), launch_disposition="STOPPED"),
        # sid(3) was not read
    }
    recovery = named(
        checks_for(two_waves(), HEALTHY, mode=Mode.RECOVERY, launch_configs=configs), "launch-config"
    )
    assert [(c.status, c.server_id) for c in recovery] == [
        (CheckStatus.WARN, sid(1)),
        (CheckStatus.WARN, sid(2)),
        (CheckStatus.WARN, sid(3)),
    ]
    assert "not checked" in recovery[2].message
    drill = named(checks_for(two_waves(), HEALTHY, mode=Mode.DRILL, launch_configs=configs), "launch-config")
    assert sid(2) not in [c.server_id for c in drill], "a drill launched STOPPED is a normal choice"


def test_a_plan_with_validation_errors_fails() -> None:
    plan = RecoveryPlan(
        name="Broken",
        waves=(Wave(name="A", servers=(sid(1),), depends_on=("B",)), Wave(name="B", servers=(sid(2),))),
    )
    checks = checks_for(plan, HEALTHY)
    (problem,) = named(checks, "plan")
    assert problem.status is CheckStatus.FAIL and "comes later" in problem.message


def test_a_plan_resolving_to_no_server_fails() -> None:
    plan = RecoveryPlan(
        name="Empty",
        protection_groups=(ProtectionGroup(name="none", tags={"Application": "nothing"}),),
        waves=(Wave(name="A", groups=("none",)),),
    )
    checks = checks_for(plan, HEALTHY)
    assert CheckStatus.FAIL in statuses(checks, "plan")
    assert any("no source server" in c.message for c in named(checks, "plan"))


def test_an_old_or_undated_inventory_is_a_warning() -> None:
    fresh = named(checks_for(two_waves(), HEALTHY), "inventory")
    assert [c.status for c in fresh] == [CheckStatus.PASS] and "read just now" in fresh[0].message
    old = inventory_of(server(1), server(2), server(3), fetched_at=NOW - timedelta(hours=3))
    (stale,) = named(checks_for(two_waves(), old), "inventory")
    assert stale.status is CheckStatus.WARN and "3 h ago" in stale.message
    undated = inventory_of(server(1), server(2), server(3), fetched_at=None)
    assert statuses(checks_for(two_waves(), undated), "inventory") == [CheckStatus.WARN]


def test_an_unfinished_execution_holding_the_same_servers_is_a_warning() -> None:
    others = [
        OtherExecution("e-1", "Shop", "DRILL", NOW - timedelta(hours=1), (sid(2), sid(8))),
        OtherExecution("e-2", "Other", "DRILL", NOW - timedelta(hours=1), (sid(7),)),
    ]
    (other,) = named(checks_for(two_waves(), HEALTHY, other_executions=others), "other-executions")
    assert other.status is CheckStatus.WARN and "e-1" in other.message and sid(2) in other.message


def test_the_report_sorts_failures_and_warnings() -> None:
    checks = (
        Check("a", CheckStatus.PASS, "fine"),
        Check("b", CheckStatus.WARN, "hm"),
        Check("c", CheckStatus.FAIL, "no"),
    )
    report = PreflightReport(checks)
    assert [c.name for c in report.failures] == ["c"]
    assert [c.name for c in report.warnings] == ["b"]
    assert not report.ok
    assert PreflightReport(checks[:2]).ok


def test_a_recovery_needs_the_exact_plan_name_to_go_ahead() -> None:
    assert confirmation_problem(Mode.DRILL, "Shop", None) is None
    missing = confirmation_problem(Mode.RECOVERY, "Shop floor", None)
    assert missing is not None and "--confirm 'Shop floor'" in missing
    assert confirmation_problem(Mode.RECOVERY, "Shop", "shop") is not None
    assert confirmation_problem(Mode.RECOVERY, "Shop", "Shop") is None


def test_servers_resolved_by_tags_are_checked_too() -> None:
    tagged = SourceServer(sid(5), hostname="tagged", tags={"App": "shop"}, replication_state="STALLED")
    inventory = inventory_of(server(1), tagged)
    plan = RecoveryPlan(
        name="Tags",
        protection_groups=(ProtectionGroup(name="shop", tags={"App": "shop"}),),
        waves=(Wave(name="W", groups=("shop",), servers=(sid(1),)),),
    )
    checks = checks_for(plan, inventory)
    assert [(c.status, c.server_id) for c in named(checks, "replication") if c.server_id] == [
        (CheckStatus.FAIL, sid(5))
    ]
