"""Readiness alerts (issue 18): a plan's test overdue, drift, not ready and a missed scheduled drill are
said once per occurrence, again only after they cleared; ``alerts check`` does it from cron."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drs_desktop.domain.alert_events import Alert, AlertKind, AlertLevel
from drs_desktop.domain.plan.model import Cadence
from drs_desktop.domain.views.cadence import CadenceKind, CadenceReason, DrillFact, PlanCadence
from drs_desktop.services.readiness_alerts import CLEARED, conditions_of
from drs_desktop.simulator.embedded import EmbeddedSimulator
from tests.alerts.hook_server import HookServer
from tests.cli.conftest import Cli, save_plans, shop_plan
from tests.secrets.memory_keyring import MemoryKeyring

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
DRIFT = "launch settings drifted from their desired state: shop-db-01"


def cadence(
    kind: CadenceKind, *reasons: CadenceReason, good: str = "", not_ready: bool | None = None
) -> PlanCadence:
    last_good = DrillFact(execution_id=good, finished_at=NOW - timedelta(days=40), outcome="SUCCEEDED")
    return PlanCadence(
        plan_name="Shop",
        kind=kind,
        headline=kind.value,
        reasons=reasons or (CadenceReason(kind, kind.value),),
        at=NOW,
        last_good=last_good if good else None,
        not_ready=not_ready,
    )


def by_kind(states: list[PlanCadence], **options: object) -> dict[AlertKind, tuple[bool, str]]:
    return {c.alert.kind: (c.active, c.state) for c in conditions_of(states, NOW, **options)}  # type: ignore[arg-type]


def test_an_occurrence_keeps_its_state_while_it_lasts_and_a_new_drill_makes_a_new_one() -> None:
    three = cadence(CadenceKind.OVERDUE, CadenceReason(CadenceKind.OVERDUE, "overdue by 3 days"), good="e1")
    four = cadence(CadenceKind.OVERDUE, CadenceReason(CadenceKind.OVERDUE, "overdue by 4 days"), good="e1")
    after_new_drill = cadence(CadenceKind.OVERDUE, good="e2")
    active, state = by_kind([three])[AlertKind.TEST_OVERDUE]
    assert active and "good e1" in state
    assert by_kind([four])[AlertKind.TEST_OVERDUE] == (True, state), "the day count is no news"
    assert by_kind([after_new_drill])[AlertKind.TEST_OVERDUE][1] != state
    assert by_kind([cadence(CadenceKind.WITHIN, good="e2")])[AlertKind.TEST_OVERDUE] == (False, CLEARED)
    assert by_kind([cadence(CadenceKind.NEVER_TESTED)])[AlertKind.TEST_OVERDUE][0]


def test_drift_and_readiness_are_said_only_when_the_caller_knows_them() -> None:
    drifted = cadence(
        CadenceKind.CHANGED, CadenceReason(CadenceKind.CHANGED, f"{DRIFT} (read 3 min ago)"), not_ready=True
    )
    known = by_kind([drifted])
    assert known[AlertKind.DRIFT] == (True, DRIFT), "the reading's age is left out of the state"
    assert known[AlertKind.PLAN_NOT_READY][0] is True
    unknown = by_kind([drifted], drift_known=False, readiness_known=False)
    assert AlertKind.DRIFT not in unknown and AlertKind.PLAN_NOT_READY not in unknown
    ready = by_kind([cadence(CadenceKind.WITHIN, good="e1", not_ready=False)])
    assert ready[AlertKind.PLAN_NOT_READY] == (False, CLEARED) and ready[AlertKind.DRIFT] == (False, CLEARED)


def test_a_missed_schedule_is_said_and_a_schedule_that_ran_clears() -> None:
    missed = Alert(
        kind=AlertKind.SCHEDULE_MISSED,
        level=AlertLevel.WARNING,
        plan_name="Fax",
        title="Fax: the scheduled drill due 2026-12-04 02:00 did not run",
        at=NOW,
    )
    conditions = {
        (c.alert.plan_name, c.alert.kind): (c.active, c.state)
        for c in conditions_of([], NOW, missed=[missed], scheduled_plans=["Fax", "Shop"])
    }
    assert conditions[("Fax", AlertKind.SCHEDULE_MISSED)] == (True, missed.title)
    assert conditions[("Shop", AlertKind.SCHEDULE_MISSED)] == (False, CLEARED)


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=7) as simulator:
        yield simulator


def test_alerts_check_says_an_untested_plan_once_to_its_webhook(
    sim: EmbeddedSimulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    hook: HookServer,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = Cli(capsys)
    home = str(tmp_path / "home")
    monthly = dataclasses.replace(shop_plan(sim), cadence=Cadence(every_days=30, retest_days=7))
    save_plans(Path(home), monthly, shop_plan(sim, name="NoCadence"))
    monkeypatch.setattr("sys.stdin", io.StringIO(hook.url() + "\n"))
    added = cli("alerts", "add", "json", "--plan", "Shop", "--label", "ops", "--home", home)
    assert added.code == 0, added.err

    first = cli("alerts", "check", "--home", home)
    assert first.code == 0, first.err
    assert first.out.splitlines() == ["test-overdue: Shop: drill never tested (1 of 1 route(s) delivered)"]
    assert [r.body["kind"] for r in hook.received] == ["test-overdue"]

    again = cli("alerts", "check", "--home", home, "--json")
    assert again.code == 0 and again.json() == {"sent": [], "problems": []}
    assert len(hook.received) == 1, "the same occurrence is said once"

    monkeypatch.setattr("sys.stdin", io.StringIO(hook.url("/second") + "\n"))
    assert cli("alerts", "add", "json", "--plan", "NoCadence", "--label", "b", "--home", home).code == 0
    assert cli("alerts", "check", "--home", home).out.strip() == "nothing new to say"
    assert len(hook.received) == 1, "a plan with no cadence is never said overdue"
