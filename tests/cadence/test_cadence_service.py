"""The cadence read from a real database after real drills against the simulator
(``services.cadence``), and the alerts of a worsening (``cadence_alerts``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.domain.alert_events import AlertKind, AlertLevel
from drs_desktop.domain.engine.annotation_events import TestRecorded, TestType
from drs_desktop.domain.engine.events import Outcome, event_to_json
from drs_desktop.domain.plan.model import Cadence, Wave
from drs_desktop.domain.views.cadence import CadenceFacts, CadenceKind, DrillFact, plan_cadence
from drs_desktop.domain.views.launch_drift import DriftState, LaunchDrift, PlanDrift, ServerDrift
from drs_desktop.services.cadence import (
    cadence_alerts,
    cadence_facts,
    cadence_to_json,
    read_cadence,
    with_readings,
)
from drs_desktop.services.native_plans import PlanStatus
from drs_desktop.storage import executions as execution_store
from drs_desktop.storage import inventory as inventory_store
from drs_desktop.storage import native_links
from drs_desktop.storage import plans as plan_store
from tests.services.readiness_world import World, readiness_world

RULES = Cadence(every_days=30, retest_days=14, after_changes=True)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with readiness_world(tmp_path) as w:
        yield w


def facts_of(world: World, name: str, cadence: Cadence = RULES) -> CadenceFacts:
    """The plan as saved, with ``cadence`` (plan files store it from format 4, another part of issue 18)."""
    summary = next(s for s in plan_store.list_plans(world.db) if s.name == name)
    plan = dataclasses.replace(plan_store.get_plan(world.db, name), cadence=cadence)
    inventory = inventory_store.load_inventory(world.db)
    return cadence_facts(world.db, plan, summary.plan_id, summary.latest_revision, inventory)


def test_a_real_drill_starts_the_clock_and_its_servers_are_compared(world: World) -> None:
    assert world.drill("Shop") is Outcome.SUCCEEDED
    facts = facts_of(world, "Shop")
    assert [d.outcome for d in facts.drills] == ["SUCCEEDED"]
    finished = facts.drills[0].finished_at
    state = plan_cadence(facts, finished + timedelta(days=25))
    assert state.headline == "due in 5 days"
    assert state.last_good is not None and state.last_good.revision == 1
    assert facts.servers is not None
    assert set(facts.servers.drilled or ()) == {
        world.id(h) for h in ("shop-db-01", "shop-app-01", "shop-app-02")
    }
    # launch drift never read and Shop not linked to a native plan: the drift is listed as unknown only
    unknown = [r.text for r in state.reasons if r.kind is CadenceKind.UNKNOWN]
    assert unknown == ["launch settings drift: not read yet"]
    assert plan_cadence(facts, finished + timedelta(days=33)).headline == "overdue by 3 days"


def test_servers_added_and_removed_since_the_good_drill_are_named_by_hostname(world: World) -> None:
    world.drill("Shop")
    plan = plan_store.get_plan(world.db, "Shop")
    waves = (
        Wave(name="Database", servers=(world.id("shop-db-01"), world.id("legacy-fax"))),
        Wave(name="App", servers=(world.id("shop-app-01"),)),
    )
    plan_store.save_plan(world.db, dataclasses.replace(plan, waves=waves), comment="fax joins, app-02 leaves")
    facts = facts_of(world, "Shop")
    state = plan_cadence(facts, facts.drills[0].finished_at + timedelta(days=1))
    assert state.kind is CadenceKind.CHANGED
    changed = [r.text for r in state.reasons if r.kind is CadenceKind.CHANGED]
    assert len(changed) == 2
    assert (
        changed[0].startswith("servers added since the drill of ")
        and ": legacy-fax (inventory " in changed[0]
    )
    assert (
        changed[1].startswith("servers removed since the drill of ")
        and ": shop-app-02 (inventory" in changed[1]
    )
    reason, inventory = state.reason_of(CadenceKind.CHANGED), inventory_store.load_inventory(world.db)
    assert reason is not None and inventory is not None
    assert reason.known_at == inventory.fetched_at


def test_a_drill_journaled_as_partial_is_not_the_last_good_drill(world: World) -> None:
    world.drill("Shop")
    world.drill("Shop")
    newest = execution_store.list_executions(world.db, plan_name="Shop")[0]
    recorded = TestRecorded(test_type=TestType.PARTIAL, at=newest.finished_at or newest.started_at)
    execution_store.append_events(world.db, newest.execution_id, [event_to_json(recorded)])
    facts = facts_of(world, "Shop")
    assert [d.partial for d in facts.drills] == [True, False]
    state = plan_cadence(facts, facts.drills[0].finished_at)
    assert state.last_good is not None and state.last_good.execution_id != newest.execution_id


def test_the_native_link_is_known_only_as_last_read(world: World) -> None:
    world.drill("Shop")
    summary = next(s for s in plan_store.list_plans(world.db) if s.name == "Shop")
    native_links.save_link(
        world.db,
        plan_id=summary.plan_id,
        account_id="111122223333",
        region=world.sim.region,
        recovery_plan_arn="arn:aws:drs:plan/shop",
        revision_id=plan_store.load_plan(world.db, "Shop").revision.revision_id,
        content_hash="h",
        steps=(),
    )
    facts = facts_of(world, "Shop")
    assert facts.native is not None and facts.native.arn == "arn:aws:drs:plan/shop"
    now = facts.drills[0].finished_at + timedelta(days=1)
    before = plan_cadence(facts, now)
    assert "native DRS plan: not read since this desktop started" in [r.text for r in before.reasons]
    read = with_readings(
        facts, native=[PlanStatus("shop", 1, drift=True)], native_read_at=now - timedelta(hours=3)
    )
    after = plan_cadence(read, now)
    assert after.kind is CadenceKind.CHANGED
    assert "the native DRS plan was changed outside the app (read 3 h ago)" in [r.text for r in after.reasons]


def test_read_cadence_lists_every_saved_plan_without_inventing_a_cadence(world: World) -> None:
    world.drill("Shop")
    now = world.sim.clock.now()
    reading = read_cadence(world.db, now)
    assert [p.plan_name for p in reading.plans] == ["Fax", "Shop"]
    assert reading.problems == ()
    # these plans were saved with no cadence: said, no due date made up
    assert all(p.kind is CadenceKind.NO_CADENCE for p in reading.plans)
    shop = cadence_to_json(reading.plans[1])
    assert shop["state"] == "no cadence set" and shop["needs_test"] is False
    assert shop["last_good_drill"]["outcome"] == "SUCCEEDED"


# ------------------------------------------------------------------------------------------- alerts


def drift_of(*drifted: str) -> LaunchDrift:
    at = NOW - timedelta(minutes=5)
    servers = tuple(ServerDrift(s, s, "web", DriftState.DRIFTED) for s in drifted)
    return LaunchDrift((PlanDrift("web", 1, at, servers),), at)


def cad(days_ago: int, *, drift: LaunchDrift | None = None, not_ready: bool | None = None):  # type: ignore[no-untyped-def]
    drills = (DrillFact("e", NOW - timedelta(days=days_ago), "SUCCEEDED"),)
    facts = CadenceFacts("web", RULES, drills, drift_read_at=NOW)
    return plan_cadence(with_readings(facts, drift=drift, not_ready=not_ready), NOW)


def test_alerts_on_a_worsening_only() -> None:
    due, overdue, more_overdue = cad(25), cad(33), cad(34)
    alerts = cadence_alerts(due, overdue, NOW)
    assert [(a.kind, a.level) for a in alerts] == [(AlertKind.TEST_OVERDUE, AlertLevel.WARNING)]
    assert alerts[0].title == "web: drill overdue by 3 days" and alerts[0].plan_name == "web"
    assert cadence_alerts(overdue, more_overdue, NOW) == ()  # the same state a day on: nothing new
    assert cadence_alerts(overdue, due, NOW) == ()  # better: nothing
    assert [a.kind for a in cadence_alerts(None, overdue, NOW)] == [AlertKind.TEST_OVERDUE]


def test_drift_alerts_once_per_new_drift_and_not_ready_is_critical() -> None:
    first = cadence_alerts(cad(5), cad(5, drift=drift_of("web-01")), NOW)
    assert [a.kind for a in first] == [AlertKind.DRIFT]
    assert "web-01" in first[0].detail
    again = cadence_alerts(cad(5, drift=drift_of("web-01")), cad(5, drift=drift_of("web-01")), NOW)
    assert again == ()
    more = cadence_alerts(cad(5, drift=drift_of("web-01")), cad(5, drift=drift_of("web-01", "web-02")), NOW)
    assert [a.kind for a in more] == [AlertKind.DRIFT]
    ready_then_not = cadence_alerts(cad(5, not_ready=False), cad(5, not_ready=True), NOW)
    assert [(a.kind, a.level) for a in ready_then_not] == [(AlertKind.PLAN_NOT_READY, AlertLevel.CRITICAL)]
    assert cadence_alerts(cad(5, not_ready=True), cad(5, not_ready=True), NOW) == ()
    assert cadence_alerts(cad(5, not_ready=None), cad(5, not_ready=None), NOW) == ()


def test_a_renamed_plan_keeps_its_drills(world: World) -> None:
    world.drill("Shop")
    plan_store.rename_plan(world.db, "Shop", "Webshop")
    facts = facts_of(world, "Webshop")
    assert [d.outcome for d in facts.drills] == ["SUCCEEDED"]
    assert plan_cadence(facts, facts.drills[0].finished_at).last_good is not None


def test_a_successful_drill_whose_journal_cannot_be_read_is_not_counted_good(world: World) -> None:
    """Its row says SUCCEEDED, but whether it was whole and every server recovered is not known: it is
    listed as not counted, and the drill before it stays the last good one (never a guessed good)."""
    world.drill("Shop")
    world.drill("Shop")
    newest = execution_store.list_executions(world.db, plan_name="Shop")[0]
    at = (newest.finished_at or newest.started_at).isoformat()
    execution_store.append_events(world.db, newest.execution_id, [{"type": "EventFromTheFuture", "at": at}])
    facts = facts_of(world, "Shop")
    assert [d.good for d in facts.drills] == [False, True]
    assert facts.drills[0].problem.startswith("its journal cannot be read")
    state = plan_cadence(facts, facts.drills[0].finished_at)
    assert state.last_good is not None and state.last_good.execution_id != newest.execution_id
    assert any(
        r.kind is CadenceKind.UNKNOWN and r.text.startswith("drill of ") and "not counted" in r.text
        for r in state.reasons
    )
