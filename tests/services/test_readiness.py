"""services.readiness against real drills: the runner drives the real boto3 client against the embedded
simulator ("small") on its manual clock; the dashboard reads what they journaled
(tests/services/readiness_world.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from drs_desktop.domain.engine.events import Outcome
from drs_desktop.domain.plan.model import Wave
from drs_desktop.storage.plans import get_plan, save_plan
from tests.services.readiness_world import World, readiness_world
from tests.simulator.conftest import make_client


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with readiness_world(tmp_path) as built:
        yield built


def test_before_any_drill_the_cards_say_so_and_readiness_is_not_guessed(world: World) -> None:
    service = world.service()
    try:
        board = service.overview(checking=True)
        assert [c.plan_name for c in board.cards] == ["Fax", "Shop"]
        assert board.checking and board.inventory_at is not None
        shop = board.cards[1]
        assert shop.readiness is None, "not checked yet: never 'ready'"
        assert shop.last_drill is None and shop.changes is None and shop.drills == ()
        assert shop.prediction is not None and shop.prediction.total is None
        assert shop.prediction.drills == 0
        fax = board.cards[0]
        assert [(b.label, b.lag_seconds) for b in fax.breaches] == [("legacy-fax", 7200)]
        assert fax.lags[0].replication_state == "STALLED"
    finally:
        service.close()


def test_drills_give_the_last_outcome_the_prediction_and_what_changed_since(world: World) -> None:
    assert world.drill("Shop") is Outcome.SUCCEEDED
    world.sim.clock.advance(3600)
    assert world.drill("Shop") is Outcome.SUCCEEDED
    service = world.service()
    try:
        checked = service.check()
        shop = next(c for c in checked.cards if c.plan_name == "Shop")
        assert shop.readiness is not None and shop.readiness.ok, shop.readiness
        assert shop.readiness.checked_at == world.sim.clock.now()
        fax = next(c for c in checked.cards if c.plan_name == "Fax")
        assert fax.readiness is not None and not fax.readiness.ok
        assert any("legacy-fax" in message for message in fax.readiness.failures)

        assert shop.last_drill is not None and shop.last_drill.outcome == "SUCCEEDED"
        achieved = shop.last_drill.rto_achieved
        assert achieved is not None and shop.last_drill.rto_target == timedelta(minutes=90)
        assert [d.outcome for d in shop.drills] == ["SUCCEEDED", "SUCCEEDED"]
        assert all(d.rto is not None for d in shop.drills)
        prediction = shop.prediction
        assert prediction is not None and prediction.drills == 2 and prediction.total is not None
        fastest, slowest = sorted(d.rto for d in shop.drills if d.rto is not None)
        # The waves' times exclude only the moments between the run's start and its first wave's.
        assert fastest - timedelta(minutes=2) <= prediction.total <= slowest
        assert shop.changes is not None and shop.changes.empty
        assert shop.changes.launch_compared, "the drill recorded the launch settings its preflight read"

        # Since that drill: a server re-tagged, one's launch settings changed, one added to the plan.
        drs = make_client(world.sim.endpoint_url)
        db_id, web_id = world.id("shop-db-01"), world.id("shop-web-01")
        arn = next(s.arn for s in world.gateway.inventory().servers if s.source_server_id == db_id)
        drs.tag_resource(resourceArn=arn, tags={"Owner": "dba-team"})
        drs.update_launch_configuration(sourceServerID=world.id("shop-app-01"), copyTags=False)
        drs.update_launch_configuration(sourceServerID=world.id("shop-app-02"), copyTags=True)
        plan = get_plan(world.db, "Shop")
        save_plan(world.db, replace(plan, waves=(*plan.waves, Wave(name="Web", servers=(web_id,)))))
        world.refresh_inventory()

        after = next(c for c in service.check(["Shop"]).cards if c.plan_name == "Shop")
        changes = after.changes
        assert changes is not None
        assert [c.label for c in changes.added] == ["shop-web-01"]
        assert [(c.label, c.detail) for c in changes.retagged] == [
            ("shop-db-01", "tag Owner added (dba-team)")
        ]
        assert {c.label for c in changes.launch_changed} <= {"shop-app-01", "shop-app-02"}
        assert changes.launch_changed, "a launch setting changed since the drill"
        assert after.prediction is not None and after.prediction.missing == ("Web",)
        assert after.prediction.total is None, "a wave no drill ran has no time: no prediction"
    finally:
        service.close()


def test_a_check_records_the_revision_it_checked_and_a_save_calls_for_another(world: World) -> None:
    service = world.service()
    try:
        before = service.overview()
        assert all(card.needs_check for card in before.cards), "never checked: every plan needs a check"
        checked = {c.plan_name: c for c in service.check().cards}
        assert {n: (c.revision, c.readiness and c.readiness.revision) for n, c in checked.items()} == {
            "Fax": (1, 1),
            "Shop": (1, 1),
        }
        assert not any(c.needs_check for c in checked.values())
        save_plan(world.db, replace(get_plan(world.db, "Shop"), rto_minutes=60))
        after = {c.plan_name: c for c in service.overview().cards}
        assert after["Shop"].changed_since_check and after["Shop"].revision == 2
        assert not after["Fax"].needs_check, "only the saved plan calls for a check"
        again = {c.plan_name: c for c in service.check(["Shop"]).cards}
        assert again["Shop"].readiness is not None and again["Shop"].readiness.revision == 2
        assert again["Fax"].readiness == checked["Fax"].readiness, "Fax was not checked again"
    finally:
        service.close()


def test_a_paused_or_stopped_service_calls_drs_no_more_and_records_nothing(world: World) -> None:
    world.sim.faults.server_errors("DescribeJobs", rate=1.0, status=503)
    service = world.service()
    try:
        paused = service.check(paused=lambda: True)
        assert [c.readiness for c in paused.cards] == [None, None]
        assert world.sim.faults.injected() == {}, "no DRS read while paused"

        # A run starts while a read waits out a throttle: no wait, no further read, nothing recorded.
        world.sim.faults.clear()
        world.sim.faults.throttle("DescribeJobs", rate=1.0, retry_after=600)
        throttled = service.check(paused=lambda: world.sim.faults.injected().get("throttle", 0) > 0)
        assert world.sim.faults.injected()["throttle"] == 1, "the throttled read was not sent again"
        assert [c.readiness for c in throttled.cards] == [None, None], "a cut-short check is not a result"

        service.stop()
        assert service.stopped
        world.sim.faults.clear()
        assert [c.readiness for c in service.check().cards] == [None, None]
    finally:
        service.close()


def test_a_rebuilt_service_checks_again_with_the_shared_stop_event(world: World) -> None:
    """A target switch closes the service and builds another with the app's one stop event: closing
    must not set it, or every later check would stop before its first plan."""
    stop = threading.Event()
    first = world.service(stop)
    first.close()
    second = world.service(stop)
    try:
        shop = {c.plan_name: c for c in second.check(["Shop"]).cards}["Shop"]
        assert shop.readiness is not None and shop.readiness.known, "the new service checked the plan"
        assert not stop.is_set()
    finally:
        second.close()
