"""Held LAUNCH jobs moved by a test's hands (``simulator.by_hand``): they wait, count toward every quota,
and then read exactly like jobs that ran their own timeline."""

from __future__ import annotations

import pytest

from drs_desktop.simulator.backend import DrsBackend

from .helpers import error_of, host_ids, job, log_events, start


def test_a_held_job_waits_for_the_test_and_holds_its_servers(small: DrsBackend) -> None:
    ids = host_ids(small)
    small.by_hand.hold_launches()
    job_id = start(small, [ids["shop-web-01"], ids["shop-web-02"]])["jobID"]
    small.clock.advance(24 * 3600)
    held = job(small, job_id)
    assert held["status"] == "PENDING"
    assert {p["launchStatus"] for p in held["participatingServers"]} == {"PENDING"}
    assert small.by_hand.held_jobs() == [job_id]
    busy = {"sourceServers": [{"sourceServerID": ids["shop-web-01"]}], "isDrill": True}
    assert error_of(small, "StartRecovery", busy).code == "ConflictException"
    small.by_hand.hold_launches(False)
    other = start(small, [ids["shop-app-01"]])["jobID"]
    small.clock.advance(3600)
    assert job(small, other)["status"] == "COMPLETED"  # not held: its own timeline
    assert job(small, job_id)["status"] == "PENDING"


def test_hands_launch_fail_and_complete_as_drs_would_log_it(small_exact: DrsBackend) -> None:
    ids = host_ids(small_exact)
    web, app, db = ids["shop-web-01"], ids["shop-app-01"], ids["shop-db-01"]
    small_exact.by_hand.hold_launches()
    job_id = start(small_exact, [web, app, db], drill=False)["jobID"]
    small_exact.clock.advance(60)
    small_exact.by_hand.progress(job_id, web, "SNAPSHOT_START")
    assert job(small_exact, job_id)["status"] == "STARTED"
    small_exact.clock.advance(60)
    instance = small_exact.by_hand.launch(job_id, web)
    kept = small_exact.by_hand.fail(job_id, app, reason="boom", with_instance=True)
    small_exact.by_hand.fail(job_id, db, event=None)  # the log just stops
    assert small_exact.by_hand.held_jobs() == [job_id]  # every server settled, and the job still runs
    assert job(small_exact, job_id)["status"] == "STARTED"
    small_exact.by_hand.complete(job_id)
    done = job(small_exact, job_id)
    assert done["status"] == "COMPLETED" and small_exact.by_hand.held_jobs() == []
    status = {p["sourceServerID"]: p for p in done["participatingServers"]}
    assert status[web]["launchStatus"] == "LAUNCHED" and status[web]["recoveryInstanceID"] == instance
    assert status[app]["launchStatus"] == "FAILED" and status[app]["recoveryInstanceID"] == kept
    assert status[db]["launchStatus"] == "FAILED" and "recoveryInstanceID" not in status[db]
    events = [
        (e["event"], e.get("eventData", {}).get("sourceServerID")) for e in log_events(small_exact, job_id)
    ]
    assert events == [
        ("JOB_START", None),
        ("SNAPSHOT_START", web),
        ("LAUNCH_START", web),
        ("LAUNCH_START", app),
        ("LAUNCH_FAILED", app),
        ("JOB_END", None),
    ]
    failed = next(e for e in log_events(small_exact, job_id) if e["event"] == "LAUNCH_FAILED")
    assert failed["eventData"]["rawError"] == "boom"
    listed = small_exact.handle("DescribeRecoveryInstances", {"filters": {"sourceServerIDs": [web, app]}})
    assert {i["recoveryInstanceID"] for i in listed["items"]} == {instance, kept}
    small_exact.clock.advance(3600)  # the launched instance boots and runs its post-launch actions
    runs = job(small_exact, job_id)["participatingServers"]
    assert any(p["launchActionsStatus"]["runs"] for p in runs if p["sourceServerID"] == web)


def test_finish_launches_the_rest_and_hands_refuse_what_drs_would_never_do(small: DrsBackend) -> None:
    ids = host_ids(small)
    web, app = ids["shop-web-01"], ids["shop-app-01"]
    small.by_hand.hold_launches()
    job_id = start(small, [web, app])["jobID"]
    small.by_hand.launch(job_id, web)
    with pytest.raises(ValueError, match="already LAUNCHED"):
        small.by_hand.fail(job_id, web)  # DRS never takes back a launch
    small.by_hand.finish(job_id, fail=[app])
    statuses = {p["sourceServerID"]: p["launchStatus"] for p in job(small, job_id)["participatingServers"]}
    assert statuses == {web: "LAUNCHED", app: "FAILED"}
    with pytest.raises(ValueError, match="has completed"):
        small.by_hand.complete(job_id)
    small.by_hand.hold_launches(False)
    natural = start(small, [ids["shop-db-01"]])["jobID"]
    with pytest.raises(KeyError, match="no held job"):
        small.by_hand.start(natural)
