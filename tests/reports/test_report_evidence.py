"""The JSON evidence report of a real drill holds every evidence item, with the values DRS and the
operators produced: approvals, retries, skips, job IDs, phase times, cleanup proof, RTO."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.aws.session import AwsTarget
from drs_desktop.domain.engine.state import ServerStatus, WavePhase
from drs_desktop.domain.plan.document import plan_to_document
from drs_desktop.services.report_document import SCHEMA, SCHEMA_VERSION
from drs_desktop.services.reports import load_execution_view, render_json

from .conftest import Drill

GENERATED = datetime.fromisoformat("2026-02-01T12:00:00+00:00")


def z(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def report(drill: Drill) -> dict[str, Any]:
    view = load_execution_view(drill.db, drill.execution_id)
    document: dict[str, Any] = json.loads(render_json(view, generated_at=GENERATED))
    return document


def servers_by_host(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["hostname"]: s for s in report["servers"]}


def test_the_replayed_view_is_the_state_the_runner_had(drill: Drill) -> None:
    view = load_execution_view(drill.db, drill.execution_id[:8])  # a unique prefix is enough
    assert view.state == drill.state
    assert view.journal_events > 100 and len(view.journal_sha256) == 64


def test_header_execution_identity_and_plan(drill: Drill, report: dict[str, Any]) -> None:
    assert (report["schema"], report["schema_version"]) == (SCHEMA, SCHEMA_VERSION)
    assert report["generated"]["at"] == "2026-02-01T12:00:00Z"
    execution = report["execution"]
    assert execution["id"] == drill.execution_id
    assert (execution["mode"], execution["status"], execution["outcome"]) == (
        "DRILL",
        "SUCCEEDED",
        "SUCCEEDED",
    )
    assert execution["started_at"] == z(drill.state.spec.started_at)
    assert execution["finished_at"] == z(drill.state.finished_at)
    assert report["identity"]["account"] == drill.sim.account_id == "123456789012"
    assert report["identity"]["arn"].startswith("arn:aws:iam::123456789012:")
    assert report["target"] == {
        "region": drill.sim.region,
        "profile": None,
        "endpoint_url": drill.sim.endpoint_url,
    }
    assert report["recovery_point"]["choice"] == "latest"
    plan = report["plan"]
    assert (plan["name"], plan["revision"], plan["hash_verified"], plan["problem"]) == (
        drill.plan.name,
        1,
        True,
        "",
    )
    assert (plan["author"], plan["comment"]) == ("planner", "for the audit")
    assert plan["document"] == plan_to_document(drill.plan)
    assert len(plan["content_hash"]) == 64


def test_the_approval_says_who_and_when(drill: Drill, report: dict[str, Any]) -> None:
    (approval,) = report["approvals"]
    assert approval["by"] == "alice"
    assert approval["decision"] == "granted"
    assert approval["decided_at"] == z(drill.approved_at)
    assert approval["comment"] == "DB verified <ok>"
    assert (approval["wave"], approval["message"]) == ("App", "DB checked?")
    assert approval["waited_seconds"] == 120  # alice took two minutes
    app_wave = report["waves"][1]
    assert [s["kind"] for s in app_wave["steps"]] == ["approval"]


def test_job_ids_are_those_drs_launched(drill: Drill, report: dict[str, Any]) -> None:
    launched: dict[str, list[str]] = defaultdict(list)
    for record in drill.launches:
        launched[record.source_server_id].append(record.job_id)
    reported = {
        s["server_id"]: [a["job_id"] for a in s["attempts"] if a["job_id"]] for s in report["servers"]
    }
    assert {k: v for k, v in reported.items() if v} == dict(launched)
    assert {s["server_id"]: s["job_ids"] for s in report["servers"] if s["job_ids"]} == dict(launched)
    drs_launch_jobs = {j.job_id for j in drill.drs_jobs if j.type == "LAUNCH"}
    assert {j["job_id"] for j in report["jobs"] if j["kind"] == "LAUNCH"} == drs_launch_jobs
    assert len(drs_launch_jobs) == 4  # Database, App, the App retry, Web


def test_retry_keeps_both_attempts(drill: Drill, report: dict[str, Any]) -> None:
    app_02 = servers_by_host(report)["shop-app-02"]
    assert app_02["retries"] == 1
    first, second = app_02["attempts"]
    assert (first["attempt"], first["final"], first["status"]) == (1, False, "FAILED")
    assert first["failed_stage"] == "conversion"
    assert first["reason"].startswith("CONVERSION_FAIL")
    assert first["stages"]["conversion"]["failed"] is True
    assert first["failed_at"] is not None and first["launched_at"] is None
    assert (second["attempt"], second["final"], second["status"]) == (2, True, "LAUNCHED")
    assert second["queued_at"] == z(drill.retried_at)
    assert first["job_id"] != second["job_id"]
    (retry,) = report["retries"]
    assert retry == {
        "wave": "App",
        "wave_index": 1,
        "at": z(drill.retried_at),
        "by": "bob",
        "server_ids": [drill.server("shop-app-02")],
        "relaunched_at": None,  # a run here relaunches at the retry itself; a run in DRS when DRS does
    }
    assert report["summary"]["retries"] == 1


def test_skip_and_optional_failure(drill: Drill, report: dict[str, Any]) -> None:
    (skip,) = report["skips"]
    assert skip == {
        "wave": "=CRM",
        "wave_index": 3,
        "at": z(drill.skipped_at),
        "by": "carol",
        "reason": "CRM is out of scope",
        "in_drs": None,  # a skip of a run here takes effect at once
    }
    assert report["waves"][3]["phase"] == WavePhase.SKIPPED.value
    crm = servers_by_host(report)["crm-web-01"]
    assert crm["status"] == ServerStatus.SKIPPED.value and crm["job_ids"] == []
    web_02 = servers_by_host(report)["shop-web-02"]
    assert (web_02["impact"], web_02["status"]) == ("optional", "FAILED")
    assert web_02["attempts"][0]["failed_stage"] == "launch"
    assert any(drill.server("shop-web-02") in w for w in report["waves"][2]["warnings"])
    actions = [(a["action"], a["by"]) for a in report["operator_actions"]]
    assert actions == [("approve", "alice"), ("retry", "bob"), ("skip", "carol"), ("cleanup", "alice")]


def test_phase_times_are_drs_job_log_times(drill: Drill, report: dict[str, Any]) -> None:
    plain = DrsGateway(AwsTarget(profile=None, region=drill.sim.region, endpoint_url=drill.sim.endpoint_url))
    db_01 = servers_by_host(report)["shop-db-01"]
    (attempt,) = db_01["attempts"]
    log = plain.job_log(attempt["job_id"])
    first: dict[str, datetime] = {}
    for entry in log:
        if entry.source_server_id == db_01["server_id"] and entry.event not in first:
            assert entry.at is not None
            first[entry.event] = entry.at
    for event in ("SNAPSHOT_START", "SNAPSHOT_END", "CONVERSION_START", "CONVERSION_END", "LAUNCH_START"):
        assert attempt["phases"][event] == z(first[event]), event
    stages = attempt["stages"]
    assert stages["snapshot"]["started_at"] == z(first["SNAPSHOT_START"])
    assert stages["conversion"]["seconds"] == pytest.approx(
        (first["CONVERSION_END"] - first["CONVERSION_START"]).total_seconds(), abs=0.001
    )
    assert stages["launch"]["ended_at"] == attempt["launched_at"]
    # The observed launch lags DRS's real one by less than one poll interval (30 s).
    (real,) = [r for r in drill.launches if r.source_server_id == db_01["server_id"]]
    assert real.launched_at is not None
    observed = datetime.fromisoformat(attempt["launched_at"].replace("Z", "+00:00"))
    assert timedelta(0) <= observed - real.launched_at <= timedelta(seconds=30)


def test_rto_is_the_last_critical_launch_minus_the_start(drill: Drill, report: dict[str, Any]) -> None:
    state = drill.state
    critical = [
        s
        for s in state.servers.values()
        if s.critical and state.waves[s.wave_index].phase is not WavePhase.SKIPPED
    ]
    last = max(critical, key=lambda s: s.launched_at or state.spec.started_at)
    assert last.launched_at is not None
    expected = (last.launched_at - state.spec.started_at).total_seconds()
    rto = report["rto"]
    # The report keeps durations to the millisecond (report_values.seconds); the journal's to the µs.
    assert rto["achieved_seconds"] == pytest.approx(expected, abs=0.0005)
    assert rto["target_seconds"] == 90 * 60
    assert rto["met"] is (expected <= 90 * 60)
    assert rto["last_critical_server"] == last.server_id == drill.server("shop-web-01")
    assert rto["measured_to"] == z(last.launched_at)


def test_cleanup_proof_names_the_terminate_job_and_every_instance(
    drill: Drill, report: dict[str, Any]
) -> None:
    cleanup = report["cleanup"]
    (terminate,) = [j for j in drill.drs_jobs if j.type == "TERMINATE"]
    assert cleanup["terminate_job_ids"] == [terminate.job_id]
    launched_instances = {r.recovery_instance_id for r in drill.launches if r.outcome == "LAUNCHED"}
    assert len(launched_instances) == 4
    assert {i["recovery_instance_id"] for i in cleanup["instances"]} == launched_instances
    assert all(i["terminate_job_id"] == terminate.job_id for i in cleanup["instances"])
    job = next(j for j in report["jobs"] if j["kind"] == "TERMINATE")
    # Terminated when DRS's TERMINATE job ended with them terminated, not when it was accepted.
    assert job["started_at"] == z(drill.cleanup_at) and job["status"] == "COMPLETED"
    assert job["completed_at"] is not None and job["completed_at"] > z(drill.cleanup_at)
    assert all(i["terminated_at"] == job["completed_at"] for i in cleanup["instances"])
    assert cleanup["requested"] == [{"at": z(drill.cleanup_at), "by": "alice", "how": "cleanup"}]
    assert (cleanup["still_running"], cleanup["complete"]) == ([], True)
    assert set(job["server_ids"]) == {i["server_id"] for i in cleanup["instances"]}
    # Each launched attempt points at the instance it launched and its termination.
    app_01 = servers_by_host(report)["shop-app-01"]["attempts"][0]
    assert app_01["recovery_instance_id"] in launched_instances
    assert app_01["terminate_job_id"] == terminate.job_id
