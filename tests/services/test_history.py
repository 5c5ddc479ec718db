"""services.history against a history made by real runs (tests/services/history_estate.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.connection import AccessKeyPair
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.history import UNFINISHED, HistoryFilter
from drs_desktop.services import history
from drs_desktop.services.report_audit import csv_sections
from drs_desktop.services.reports import CSV_COLUMNS
from drs_desktop.storage import executions as execution_store
from tests.services.history_estate import Estate, build_estate


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """Read-only tests share one history; tests that change it build their own (``fresh``)."""
    with build_estate(tmp_path_factory.mktemp("history")) as built:
        yield built


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Estate]:
    with build_estate(tmp_path) as built:
        yield built


def ids_of(rows: list) -> list[str]:
    return [row.execution_id for row in rows]


def test_lists_every_execution_newest_first_with_what_only_the_journal_knows(estate: Estate) -> None:
    rows = history.list_executions(estate.db)
    assert ids_of(rows) == [estate.fax_waiting, estate.shop_left, estate.crm_recovery, estate.crm_cleaned]
    fax, shop, recovery, cleaned = rows
    assert (fax.status, fax.outcome, fax.finished, fax.duration) == ("WAITING_APPROVAL", None, False, None)
    assert fax.drill_instances_running == estate.fax_instances
    assert not fax.needs_cleanup, "an unfinished drill's instances belong to its live run"
    assert (shop.status, shop.outcome) == ("SUCCEEDED", "SUCCEEDED")
    assert sorted(shop.drill_instances_running) == list(estate.shop_instances)
    assert shop.needs_cleanup
    assert shop.rto_target == timedelta(minutes=90) and shop.rto_met is True
    assert shop.duration is not None and shop.duration > timedelta(0)
    assert (shop.wave_count, shop.server_count) == (3, 5)
    assert recovery.record.mode == "RECOVERY" and recovery.drill_instances_running == ()
    assert recovery.rto_met is False, "CRM's one-minute target cannot be met"
    assert cleaned.drill_instances_running == () and not cleaned.needs_cleanup
    assert all(not row.problem for row in rows)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (HistoryFilter(plan_name="crm"), ["crm_recovery", "crm_cleaned"]),  # case-insensitive
        (HistoryFilter(mode="RECOVERY"), ["crm_recovery"]),
        (HistoryFilter(mode="DRILL", plan_name="CRM"), ["crm_cleaned"]),
        (HistoryFilter(outcome="SUCCEEDED"), ["shop_left", "crm_recovery", "crm_cleaned"]),
        (HistoryFilter(outcome=UNFINISHED), ["fax_waiting"]),
        (HistoryFilter(outcome="FAILED"), []),
        (HistoryFilter(drill_instances_running=True), ["fax_waiting", "shop_left"]),
        (HistoryFilter(drill_instances_running=True, outcome="SUCCEEDED"), ["shop_left"]),
        (HistoryFilter(limit=2), ["fax_waiting", "shop_left"]),
    ],
)
def test_filters(estate: Estate, flt: HistoryFilter, expected: list[str]) -> None:
    assert ids_of(history.list_executions(estate.db, flt)) == [getattr(estate, name) for name in expected]


def test_date_range_is_inclusive_from_and_exclusive_before(estate: Estate) -> None:
    shop = execution_store.get_execution(estate.db, estate.shop_left)
    since = history.list_executions(estate.db, HistoryFilter(started_from=shop.started_at))
    assert ids_of(since) == [estate.fax_waiting, estate.shop_left]
    before = history.list_executions(estate.db, HistoryFilter(started_before=shop.started_at))
    assert ids_of(before) == [estate.crm_recovery, estate.crm_cleaned]
    window = HistoryFilter(
        started_from=shop.started_at, started_before=shop.started_at + timedelta(seconds=1)
    )
    assert ids_of(history.list_executions(estate.db, window)) == [estate.shop_left]


def test_drill_instances_running_from_the_replayed_journal(estate: Estate) -> None:
    assert sorted(history.drill_instances_running(estate.db, estate.shop_left)) == list(estate.shop_instances)
    assert history.drill_instances_running(estate.db, estate.shop_left[:8]) == tuple(
        history.drill_instances_running(estate.db, estate.shop_left)
    ), "a unique prefix of the ID works, as on the command line"
    assert history.drill_instances_running(estate.db, estate.crm_recovery) == ()
    assert history.drill_instances_running(estate.db, estate.crm_cleaned) == ()
    with pytest.raises(execution_store.ExecutionNotFoundError):
        history.drill_instances_running(estate.db, "no-such-execution")


def test_cleanup_terminates_exactly_that_drills_instances(fresh: Estate) -> None:
    live = fresh.live_instance_ids()
    assert set(fresh.shop_instances) <= live and set(fresh.fax_instances) <= live
    others = live - set(fresh.shop_instances)
    result = history.cleanup(
        fresh.db, fresh.gateway, fresh.shop_left, "bob", clock=fresh.clock, sleep=fresh.sleep
    )
    assert result.refused == "" and result.complete
    assert sorted(result.targeted) == list(fresh.shop_instances)
    assert sorted(result.terminated) == list(fresh.shop_instances)
    assert result.still_running == () and len(result.terminate_job_ids) == 1
    assert result.describe() == "terminated 5 of 5 drill instances"
    after = fresh.live_instance_ids()
    assert not (after & set(fresh.shop_instances)), "a drill instance survived its cleanup"
    assert others <= after, "cleanup touched an instance of another execution"
    entries = execution_store.load_journal(fresh.db, fresh.shop_left)
    requested = [e.payload for e in entries if e.type == "CleanupRequested"]
    assert [r["by"] for r in requested] == ["bob"]
    (shop,) = history.list_executions(fresh.db, HistoryFilter(plan_name="Shop"))
    assert shop.drill_instances_running == () and not shop.needs_cleanup
    again = history.cleanup(fresh.db, fresh.gateway, fresh.shop_left, "bob", clock=fresh.clock)
    assert again.refused == "no drill instance of this execution is running"
    assert again.complete and again.describe().startswith("nothing to clean up")


def test_cleanup_of_an_execution_another_process_drives_is_refused(fresh: Estate) -> None:
    """A cleanup drives the execution: while another process holds its driver lock, it journals and
    sends nothing and says who drives it."""
    import os

    from drs_desktop.services.driver_lock import take_driver_lock

    entries = len(execution_store.load_journal(fresh.db, fresh.shop_left))
    with take_driver_lock(fresh.db.path, fresh.shop_left):
        busy = history.cleanup(fresh.db, fresh.gateway, fresh.shop_left, "bob", clock=fresh.clock)
    assert busy.refused.startswith(f"execution {fresh.shop_left} is being driven by pid {os.getpid()} on ")
    assert busy.still_running == busy.targeted and set(busy.targeted) == set(fresh.shop_instances)
    assert len(execution_store.load_journal(fresh.db, fresh.shop_left)) == entries
    assert set(fresh.shop_instances) <= fresh.live_instance_ids()


def test_cleanup_refusals_send_nothing(estate: Estate) -> None:
    def journal_length(execution_id: str) -> int:
        return len(execution_store.load_journal(estate.db, execution_id))

    lengths = {i: journal_length(i) for i in (estate.crm_recovery, estate.fax_waiting)}
    recovery = history.cleanup(estate.db, estate.gateway, estate.crm_recovery, clock=estate.clock)
    assert "a recovery's instances are production" in recovery.refused
    assert recovery.targeted == () and recovery.complete
    waiting = history.cleanup(
        estate.db, estate.gateway, estate.fax_waiting, clock=estate.clock, only_finished=True
    )
    assert "has not finished" in waiting.refused
    assert waiting.still_running == estate.fax_instances and not waiting.complete
    assert {i: journal_length(i) for i in lengths} == lengths, "a refused cleanup journaled something"
    assert waiting.by.startswith("arn:aws:"), "nobody named: the identity that ran the drill"


def test_execution_history_caches_and_follows_new_events(fresh: Estate) -> None:
    service = history.ExecutionHistory(
        fresh.db, lambda record: fresh.gateway, clock=fresh.clock, sleep=fresh.sleep
    )
    try:
        first = service.executions()
        assert service.executions() == first
        assert service.plan_names() == ["CRM", "Fax", "Shop"]
        result = service.cleanup(fresh.shop_left, "carol")
        assert sorted(result.terminated) == list(fresh.shop_instances)
        refreshed = {row.execution_id: row for row in service.executions()}
        assert refreshed[fresh.shop_left].drill_instances_running == ()
        assert refreshed[fresh.shop_left].record.event_count > first[1].record.event_count
        waiting = service.cleanup(fresh.fax_waiting)
        assert "has not finished" in waiting.refused, "the GUI never runs a second runner on a live run"
        view = service.view(fresh.shop_left)
        assert view.evidence.drill_instances_running == ()
    finally:
        service.close()
    with pytest.raises(DrsDesktopError, match="no DRS connection"):
        history.ExecutionHistory(fresh.db).cleanup(fresh.shop_left)


def test_a_journal_that_cannot_be_replayed_still_lists_with_its_problem(fresh: Estate) -> None:
    execution_store.append_events(fresh.db, fresh.crm_cleaned, [{"type": "NoSuchEvent", "at": None}])
    rows = {row.execution_id: row for row in history.list_executions(fresh.db)}
    damaged = rows[fresh.crm_cleaned]
    assert "cannot be replayed" in damaged.problem
    assert damaged.status == "SUCCEEDED" and damaged.drill_instances_running == ()
    assert not rows[fresh.shop_left].problem


def test_exports_write_valid_html_json_and_csv(estate: Estate, tmp_path: Path) -> None:
    html = history.export_report(estate.db, estate.shop_left, "html", tmp_path / "r.html").read_text("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and estate.shop_left in html
    data = json.loads(
        history.export_report(estate.db, estate.shop_left, "json", tmp_path / "r.json").read_text()
    )
    assert data["execution"]["id"] == estate.shop_left
    assert sorted(data["cleanup"]["still_running"]) == list(estate.shop_instances)
    text = history.export_report(estate.db, estate.shop_left, "csv", tmp_path / "r.csv").read_text("utf-8")
    rows = csv_sections(text)["attempts"].rows  # the audit sections follow the attempt rows
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 5
    rendered = json.loads(history.render_report(estate.db, estate.shop_left, "json"))
    assert rendered["servers"] == data["servers"] and rendered["cleanup"] == data["cleanup"]


def _record(target: dict[str, object]) -> ExecutionRecord:
    from datetime import UTC, datetime

    return ExecutionRecord(
        execution_id="x",
        plan_id="p",
        plan_revision_id="r",
        plan_name="Shop",
        plan_revision=1,
        mode="DRILL",
        status="SUCCEEDED",
        started_at=datetime(2026, 1, 5, tzinfo=UTC),
        options={"target": target},
    )


def test_recorded_target_reaches_where_the_execution_ran() -> None:
    keys = AccessKeyPair("AKIAEXAMPLEEXAMPLE12", "secret")
    current = AwsTarget(profile="ops", region="eu-west-1", credentials=keys)
    ran = _record({"region": "us-east-2", "profile": "dr", "endpoint_url": None})
    target = history.recorded_target(ran, current)
    assert (target.region, target.profile, target.credentials) == ("us-east-2", "dr", None)
    same = history.recorded_target(_record({"region": "us-east-2", "profile": "ops"}), current)
    assert same.credentials is keys, "typed keys go with their own profile only"
    # Demo mode: the simulator running now, not a loopback port from an earlier session.
    demo = AwsTarget(profile=None, region="us-east-1", endpoint_url="http://127.0.0.1:5555")
    old = _record({"region": "us-east-1", "endpoint_url": "http://127.0.0.1:4444"})
    assert history.recorded_target(old, demo).endpoint_url == "http://127.0.0.1:5555"
    assert history.recorded_target(_record({}), current).region == "eu-west-1"


def test_a_cleanup_asked_to_stop_returns_before_it_acts_and_a_second_one_finishes_it(fresh: Estate) -> None:
    """``should_stop`` is how the GUI's shutdown cuts a cleanup short: the control is journaled, nothing
    more is done, and running the cleanup again terminates the drill's instances."""
    stopping = history.ExecutionHistory(
        fresh.db, lambda record: fresh.gateway, clock=fresh.clock, sleep=fresh.sleep, should_stop=lambda: True
    )
    try:
        cut_short = stopping.cleanup(fresh.shop_left, "carol")
    finally:
        stopping.close()
    assert not cut_short.complete and set(fresh.shop_instances) <= fresh.live_instance_ids()
    again = history.ExecutionHistory(
        fresh.db, lambda record: fresh.gateway, clock=fresh.clock, sleep=fresh.sleep
    )
    try:
        finished = again.cleanup(fresh.shop_left, "carol")
    finally:
        again.close()
    assert finished.complete and sorted(finished.terminated) == list(fresh.shop_instances)
    assert not (fresh.live_instance_ids() & set(fresh.shop_instances))
