"""Routes per plan and ``AlertSender.send``: each route on its own (one failing never stops the others),
the result recorded on the route, the webhook URL in the keyring only: never in the database file (its
WAL included) nor in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.alert_events import AlertKind
from drs_desktop.domain.alert_routes import RouteError, RouteKind, parse_kinds
from drs_desktop.domain.plan.model import RecoveryPlan, Wave
from drs_desktop.secrets import SecretStore
from drs_desktop.services.alerts import (
    AlertSender,
    add_route,
    alert_for_test_button,
    remove_route,
    routes_of_plan,
)
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import alert_routes as store
from drs_desktop.storage.db import Database
from drs_desktop.storage.plans import save_plan
from tests.alerts.hook_server import HookServer
from tests.secrets.memory_keyring import MemoryKeyring

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOKEN = "s3cr3t-token-XYZ"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "drs.db") as database:
        save_plan(database, RecoveryPlan(name="Shop", waves=(Wave(name="All", servers=("s-1",)),)))
        yield database


@pytest.fixture
def sim() -> Iterator[EmbeddedSimulator]:
    with EmbeddedSimulator("small", seed=1) as simulator:
        yield simulator


def sender(db: Database, sim: EmbeddedSimulator | None, **kwargs: object) -> AlertSender:
    target = (
        (lambda: AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url)) if sim else None
    )
    return AlertSender(db, SecretStore(), target=target, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def test_one_failing_route_does_not_stop_the_others(
    db: Database, sim: EmbeddedSimulator, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    arn = f"arn:aws:sns:{sim.region}:{sim.account_id}:drs-alerts"
    sim.sns.add_topic(arn)
    secrets = SecretStore()
    kinds = parse_kinds("run-failed,run-succeeded")
    broken, _ = add_route(
        db,
        secrets,
        plan_name="Shop",
        kind=RouteKind.SLACK,
        label="broken",
        target=hook.url(),
        kinds=kinds,
        now=NOW,
    )
    sns, _ = add_route(
        db, secrets, plan_name="Shop", kind=RouteKind.SNS, label="", target=arn, kinds=kinds, now=NOW
    )
    teams, persistent = add_route(
        db,
        secrets,
        plan_name="Shop",
        kind=RouteKind.TEAMS,
        label="ops channel",
        target=hook.url(),
        kinds=kinds,
        now=NOW,
    )
    assert persistent and sns.label == "drs-alerts"
    hook.answers.append(500)  # the first webhook route's answer
    results = sender(db, sim).send(alert_for_test_button("Shop", NOW), routes_of_plan(db, "Shop"))
    assert [(r.label, r.delivered) for r in results] == [
        ("broken", False),
        ("drs-alerts", True),
        ("ops channel", True),
    ]
    assert results[0].detail.startswith("the webhook answered HTTP 500")
    assert results[1].detail.startswith("SNS message ")
    assert [m.subject for m in sim.sns.published()] == ["Test alert from DRS Desktop for plan Shop"]
    assert hook.received[1].body["type"] == "message"
    stored = {r.label: r for r in routes_of_plan(db, "Shop")}
    assert stored["broken"].last_error.startswith("the webhook answered HTTP 500")
    assert stored["broken"].last_delivered_at is None
    assert stored["ops channel"].last_delivered_at == NOW and stored["ops channel"].last_error == ""
    assert "delivered at 2026-01-05 09:00" in stored["drs-alerts"].last_outcome
    assert broken.route_id != teams.route_id


def test_routes_take_only_their_kinds_and_the_test(
    db: Database, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    add_route(
        db,
        SecretStore(),
        plan_name="Shop",
        kind=RouteKind.JSON,
        label="relay",
        target=hook.url(),
        kinds={AlertKind.RUN_FAILED},
        now=NOW,
    )
    from drs_desktop.domain.alert_events import Alert, AlertLevel

    overdue = Alert(
        kind=AlertKind.TEST_OVERDUE, level=AlertLevel.WARNING, plan_name="Shop", title="overdue", at=NOW
    )
    assert sender(db, None).send(overdue, routes_of_plan(db, "Shop")) == []
    assert [
        r.delivered
        for r in sender(db, None).send(alert_for_test_button("Shop", NOW), routes_of_plan(db, "Shop"))
    ] == [True]


def test_sns_route_without_a_target_fails_saying_so(db: Database) -> None:
    add_route(
        db,
        SecretStore(),
        plan_name="Shop",
        kind=RouteKind.SNS,
        label="t",
        target="arn:aws:sns:us-east-1:123456789012:t",
        kinds={AlertKind.RUN_FAILED},
        now=NOW,
    )
    (result,) = sender(db, None).send(alert_for_test_button("Shop", NOW), routes_of_plan(db, "Shop"))
    assert not result.delivered and "no AWS target" in result.detail


def test_the_webhook_url_is_never_in_the_database_nor_the_log(
    tmp_path: Path,
    db: Database,
    hook: HookServer,
    memory_keyring: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    route, _ = add_route(
        db,
        SecretStore(),
        plan_name="Shop",
        kind=RouteKind.SLACK,
        label="ops",
        target=hook.url(),
        kinds={AlertKind.RUN_FAILED},
        now=NOW,
    )
    hook.answers.append(500)
    sender(db, None).send(alert_for_test_button("Shop", NOW), routes_of_plan(db, "Shop"))
    sender(db, None).send(alert_for_test_button("Shop", NOW), routes_of_plan(db, "Shop"))
    assert memory_keyring.get_password("drs-desktop", f"secret/{route.target}") == hook.url()
    for path in tmp_path.glob("drs.db*"):
        assert TOKEN.encode() not in path.read_bytes(), path.name
    assert TOKEN not in caplog.text
    assert remove_route(db, SecretStore(), route.route_id)
    assert memory_keyring.get_password("drs-desktop", f"secret/{route.target}") is None
    assert routes_of_plan(db, "Shop") == []
    assert not remove_route(db, SecretStore(), route.route_id)


def test_a_route_whose_url_left_the_keyring_says_so(
    db: Database, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    route, _ = add_route(
        db,
        SecretStore(),
        plan_name="Shop",
        kind=RouteKind.JSON,
        label="relay",
        target=hook.url(),
        kinds={AlertKind.RUN_FAILED},
        now=NOW,
    )
    memory_keyring.delete_password("drs-desktop", f"secret/{route.target}")
    (result,) = sender(db, None).send(alert_for_test_button("Shop", NOW), routes_of_plan(db, "Shop"))
    assert not result.delivered and "not in the OS keyring" in result.detail
    assert hook.received == []


def test_bad_input_is_refused_with_a_clear_error(db: Database, memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(RouteError, match="not an SNS topic ARN"):
        add_route(
            db,
            SecretStore(),
            plan_name="Shop",
            kind=RouteKind.SNS,
            label="",
            target="arn:aws:s3:::b",
            kinds={AlertKind.RUN_FAILED},
            now=NOW,
        )
    with pytest.raises(RouteError, match="must use https"):
        add_route(
            db,
            SecretStore(),
            plan_name="Shop",
            kind=RouteKind.SLACK,
            label="x",
            target="http://hooks.example.com/x",
            kinds={AlertKind.RUN_FAILED},
            now=NOW,
        )
    with pytest.raises(RouteError, match="unknown alert kind 'run-exploded'"):
        parse_kinds("run-failed, run-exploded")
    assert parse_kinds("all") == frozenset(k for k in AlertKind if k is not AlertKind.TEST)
    assert routes_of_plan(db, "Shop") == []


def test_plan_state_and_run_claims(db: Database) -> None:
    assert store.set_plan_state(db, "p", AlertKind.PLAN_NOT_READY, "not-ready", NOW)
    assert not store.set_plan_state(db, "p", AlertKind.PLAN_NOT_READY, "not-ready", NOW)
    assert store.set_plan_state(db, "p", AlertKind.PLAN_NOT_READY, "ready", NOW)
    assert store.claim_run_alert(db, "e", "failed", AlertKind.RUN_FAILED, NOW)
    assert not store.claim_run_alert(db, "e", "failed", AlertKind.RUN_FAILED, NOW)
    assert store.run_alerts_claimed(db, "e") == [("failed", AlertKind.RUN_FAILED)]


def test_a_readiness_alert_goes_on_a_change_not_every_refresh(
    db: Database, hook: HookServer, memory_keyring: MemoryKeyring
) -> None:
    from drs_desktop.domain.alert_events import Alert, AlertLevel
    from drs_desktop.services.alerts import alert_on_change

    add_route(
        db,
        SecretStore(),
        plan_name="Shop",
        kind=RouteKind.JSON,
        label="relay",
        target=hook.url(),
        kinds={AlertKind.TEST_OVERDUE},
        now=NOW,
    )
    overdue = Alert(
        kind=AlertKind.TEST_OVERDUE,
        level=AlertLevel.WARNING,
        plan_name="Shop",
        title="Shop: drill overdue",
        at=NOW,
    )
    send = sender(db, None)
    assert [r.delivered for r in alert_on_change(db, send, overdue, "overdue since 2026-01-01")] == [True]
    assert alert_on_change(db, send, overdue, "overdue since 2026-01-01") == []  # the next refresh
    assert alert_on_change(db, send, overdue, "ok", clear=True) == []  # tested again: nothing said
    assert len(alert_on_change(db, send, overdue, "overdue since 2026-03-01")) == 1
    assert [r.body["title"] for r in hook.received] == ["Shop: drill overdue", "Shop: drill overdue"]
