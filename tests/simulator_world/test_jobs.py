"""Jobs through DrsBackend.handle on a manual clock: lifecycle, log order, drills, terminate, listings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from drs_desktop.simulator.backend import DrsBackend

from .helpers import error_of, host_ids, job, log_events, run_until_complete, start

PER_SERVER_ORDER = ["SNAPSHOT_START", "SNAPSHOT_END", "CONVERSION_START", "CONVERSION_END", "LAUNCH_START"]


def test_start_recovery_answers_pending_job_like_real_drs(small: DrsBackend) -> None:
    ids = host_ids(small)
    created = start(small, [ids["shop-web-01"], ids["shop-web-02"]], drill=False, runId="r1")
    assert created["status"] == "PENDING"
    assert created["type"] == "LAUNCH" and created["initiatedBy"] == "START_RECOVERY"
    assert created["jobID"].startswith("drsjob-") and len(created["jobID"]) == 24
    assert created["arn"] == f"arn:aws:drs:us-east-1:123456789012:job/{created['jobID']}"
    assert created["tags"] == {"runId": "r1", "resourceArn": created["arn"]}
    assert created["participatingResources"] == []
    for p in created["participatingServers"]:
        assert p["launchStatus"] == "PENDING"
        assert p["launchActionsStatus"] == {"runs": []}
        assert "recoveryInstanceID" not in p
    assert "endDateTime" not in created
    assert created["creationDateTime"] == "2026-01-05T08:00:00.000000+00:00"
    tags = small.handle("ListTagsForResource", {"resourceArn": created["arn"]})["tags"]
    assert tags == created["tags"]


def test_job_lifecycle_and_log_order(small_exact: DrsBackend) -> None:
    ids = host_ids(small_exact)
    servers = [ids["shop-web-01"], ids["shop-app-01"], ids["shop-db-01"]]
    job_id = start(small_exact, servers)["jobID"]
    small_exact.clock.advance(30)
    assert job(small_exact, job_id)["status"] == "STARTED"
    done = run_until_complete(small_exact, job_id)
    assert all(p["launchStatus"] == "LAUNCHED" for p in done["participatingServers"])
    assert all(p["recoveryInstanceID"].startswith("i-") for p in done["participatingServers"])
    assert datetime.fromisoformat(done["endDateTime"]) > datetime.fromisoformat(done["creationDateTime"])
    events = log_events(small_exact, job_id)
    names = [e["event"] for e in events]
    assert names[0] == "JOB_START" and names[-1] == "JOB_END"
    assert "LAUNCH_END" not in names
    times = [datetime.fromisoformat(e["logDateTime"]) for e in events]
    assert times == sorted(times)
    for sid in servers:
        mine = [e["event"] for e in events if e["eventData"].get("sourceServerID") == sid]
        assert mine == PER_SERVER_ORDER
    conversion = next(e for e in events if e["event"] == "CONVERSION_START")
    assert conversion["eventData"]["conversionServerID"].startswith("i-")
    launch = next(e for e in events if e["event"] == "LAUNCH_START")
    assert launch["eventData"]["targetInstanceID"].startswith("i-")
    # The Windows server takes far longer than the Linux ones (conversion and launch).
    ended = {
        e["eventData"].get("sourceServerID"): datetime.fromisoformat(e["logDateTime"])
        for e in events
        if e["event"] == "LAUNCH_START"
    }
    assert ended[ids["shop-db-01"]] > ended[ids["shop-web-01"]]


def test_drill_creates_drill_instances_and_no_post_launch_runs(small: DrsBackend) -> None:
    ids = host_ids(small)
    job_id = start(small, [ids["shop-web-01"]], drill=True)["jobID"]
    done = run_until_complete(small, job_id)
    assert done["initiatedBy"] == "START_DRILL"
    small.clock.advance(3 * 3600)
    done = job(small, job_id)
    status = done["participatingServers"][0]["launchActionsStatus"]
    assert status["runs"] == []
    assert "ssmAgentDiscoveryDatetime" in status  # the agent was seen; the actions just did not run
    instance = small.handle("DescribeRecoveryInstances", {})["items"][0]
    assert instance["isDrill"] is True
    assert instance["jobID"] == job_id
    assert instance["ec2InstanceState"] == "RUNNING"
    assert instance["ec2InstanceID"] == instance["recoveryInstanceID"]
    server = small.handle("DescribeSourceServers", {"filters": {"sourceServerIDs": [ids["shop-web-01"]]}})[
        "items"
    ][0]
    assert server["lastLaunchResult"] == "SUCCEEDED"
    assert server["recoveryInstanceId"] == instance["recoveryInstanceID"]
    assert server["lifeCycle"]["lastLaunch"]["initiated"] == {
        "apiCallDateTime": done["creationDateTime"],
        "jobID": job_id,
        "type": "DRILL",
    }
    assert server["lifeCycle"]["lastLaunch"]["status"] == "LAUNCHED"


def test_recovery_runs_post_launch_actions(small: DrsBackend) -> None:
    ids = host_ids(small)
    job_id = start(small, [ids["shop-web-01"]], drill=False)["jobID"]
    run_until_complete(small, job_id)
    small.clock.advance(3 * 3600)
    status = job(small, job_id)["participatingServers"][0]["launchActionsStatus"]
    assert "ssmAgentDiscoveryDatetime" in status
    assert [r["status"] for r in status["runs"]] == ["SUCCEEDED"]
    assert status["runs"][0]["action"]["name"] == "Verify services"
    actions = small.handle("ListLaunchActions", {"resourceId": ids["shop-web-01"]})["items"]
    assert status["runs"][0]["action"]["actionId"] == actions[0]["actionId"]
    assert small.handle("DescribeRecoveryInstances", {})["items"][0]["isDrill"] is False


def test_run_on_drills_makes_drills_run_actions(make_backend: Callable[..., DrsBackend]) -> None:
    backend = make_backend(
        {
            "fleet": {"servers": [{"hostname": "a", "os": "linux"}]},
            "post_launch": {"run_on_drills": True, "actions": [{"name": "Check", "action_code": "Doc-1"}]},
        }
    )
    sid = backend.server_id_of("a")
    job_id = start(backend, [sid], drill=True)["jobID"]
    run_until_complete(backend, job_id)
    backend.clock.advance(3600)
    runs = job(backend, job_id)["participatingServers"][0]["launchActionsStatus"]["runs"]
    assert [r["status"] for r in runs] == ["SUCCEEDED"]


def test_terminate_job_removes_the_instances(small_exact: DrsBackend) -> None:
    ids = host_ids(small_exact)
    job_id = start(small_exact, [ids["shop-web-01"], ids["shop-web-02"]])["jobID"]
    run_until_complete(small_exact, job_id)
    instances = [
        i["recoveryInstanceID"] for i in small_exact.handle("DescribeRecoveryInstances", {})["items"]
    ]
    assert len(instances) == 2
    term = small_exact.handle("TerminateRecoveryInstances", {"recoveryInstanceIDs": instances})["job"]
    assert term["type"] == "TERMINATE" and term["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
    assert {p["recoveryInstanceID"] for p in term["participatingServers"]} == set(instances)
    small_exact.clock.advance(20)
    assert job(small_exact, term["jobID"])["status"] == "STARTED"
    small_exact.clock.advance(5)
    states = {i["ec2InstanceState"] for i in small_exact.handle("DescribeRecoveryInstances", {})["items"]}
    assert states <= {"SHUTTING-DOWN", "RUNNING"}
    done = run_until_complete(small_exact, term["jobID"], step=30)
    assert [p["launchStatus"] for p in done["participatingServers"]] == ["TERMINATED", "TERMINATED"]
    assert small_exact.handle("DescribeRecoveryInstances", {})["items"] == []
    server = small_exact.handle(
        "DescribeSourceServers", {"filters": {"sourceServerIDs": [ids["shop-web-01"]]}}
    )["items"][0]
    assert "recoveryInstanceId" not in server
    assert server["lifeCycle"]["lastLaunch"]["status"] == "TERMINATED"
    names = [e["event"] for e in log_events(small_exact, term["jobID"])]
    assert names == [
        "JOB_START",
        "CLEANUP_START",
        "CLEANUP_START",
        "CLEANUP_END",
        "CLEANUP_END",
        "JOB_END",
    ] or (
        names[0] == "JOB_START"
        and names[-1] == "JOB_END"
        and sorted(names[1:-1]) == ["CLEANUP_END"] * 2 + ["CLEANUP_START"] * 2
    )
    err = error_of(small_exact, "TerminateRecoveryInstances", {"recoveryInstanceIDs": instances[:1]})
    assert err.code == "ResourceNotFoundException"


def test_relaunch_replaces_the_previous_instance(small_exact: DrsBackend) -> None:
    sid = host_ids(small_exact)["shop-web-01"]
    first = run_until_complete(small_exact, start(small_exact, [sid])["jobID"])
    old = first["participatingServers"][0]["recoveryInstanceID"]
    second = run_until_complete(small_exact, start(small_exact, [sid])["jobID"])
    new = second["participatingServers"][0]["recoveryInstanceID"]
    assert new != old
    names = [e["event"] for e in log_events(small_exact, second["jobID"])]
    assert names[1:3] == ["CLEANUP_START", "CLEANUP_END"]
    assert [
        i["recoveryInstanceID"] for i in small_exact.handle("DescribeRecoveryInstances", {})["items"]
    ] == [new]


def test_unhealthy_servers_fail_inside_the_job(small: DrsBackend) -> None:
    ids = host_ids(small)
    job_id = start(small, [ids["new-build"], ids["legacy-fax"], ids["retired-box"]])["jobID"]
    done = run_until_complete(small, job_id)
    assert [p["launchStatus"] for p in done["participatingServers"]] == ["FAILED"] * 3
    fails = [e for e in log_events(small, job_id) if e["event"] == "SNAPSHOT_FAIL"]
    assert len(fails) == 3 and all(e["eventData"]["rawError"] for e in fails)
    server = small.handle("DescribeSourceServers", {"filters": {"sourceServerIDs": [ids["new-build"]]}})[
        "items"
    ][0]
    assert server["lastLaunchResult"] == "FAILED"
    assert server["lifeCycle"]["lastLaunch"]["status"] == "FAILED"


def test_launch_from_a_point_in_time_snapshot(small_exact: DrsBackend) -> None:
    sid = host_ids(small_exact)["legacy-fax"]  # stalled: only an older snapshot can be used
    snaps = small_exact.handle("DescribeRecoverySnapshots", {"sourceServerID": sid, "order": "DESC"})["items"]
    chosen = snaps[0]
    created = small_exact.handle(
        "StartRecovery",
        {
            "sourceServers": [{"sourceServerID": sid, "recoverySnapshotID": chosen["snapshotID"]}],
            "isDrill": True,
        },
    )["job"]
    done = run_until_complete(small_exact, created["jobID"])
    assert done["participatingServers"][0]["launchStatus"] == "LAUNCHED"
    names = [e["event"] for e in log_events(small_exact, created["jobID"])]
    assert "USING_PREVIOUS_SNAPSHOT" in names and "SNAPSHOT_START" not in names
    instance = small_exact.handle("DescribeRecoveryInstances", {"filters": {"sourceServerIDs": [sid]}})[
        "items"
    ][0]
    assert instance["pointInTimeSnapshotDateTime"] == chosen["timestamp"]
    err = error_of(
        small_exact,
        "StartRecovery",
        {"sourceServers": [{"sourceServerID": sid, "recoverySnapshotID": "pit-00000000000000000"}]},
    )
    assert err.code == "ResourceNotFoundException"


def test_recovery_snapshots_listing(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    asc = small.handle("DescribeRecoverySnapshots", {"sourceServerID": sid})["items"]
    assert 30 <= len(asc) <= 40
    stamps = [a["expectedTimestamp"] for a in asc]
    assert stamps == sorted(stamps)
    assert all(a["snapshotID"].startswith("pit-") and len(a["snapshotID"]) == 21 for a in asc)
    assert all(a["ebsSnapshots"][0].startswith("snap-") for a in asc)
    desc = small.handle("DescribeRecoverySnapshots", {"sourceServerID": sid, "order": "DESC"})["items"]
    assert desc == list(reversed(asc))
    window = small.handle(
        "DescribeRecoverySnapshots",
        {
            "sourceServerID": sid,
            "filters": {"fromDateTime": "2026-01-05T07:00:00Z", "toDateTime": "2026-01-05T08:00:00Z"},
        },
    )["items"]
    assert 6 <= len(window) <= 7
    assert (
        small.handle("DescribeRecoverySnapshots", {"sourceServerID": host_ids(small)["new-build"]})["items"]
        == []
    )


def test_describe_jobs_newest_first_filters_and_pages(small: DrsBackend) -> None:
    ids = list(host_ids(small).values())[:6]
    created = []
    for sid in ids:
        created.append(start(small, [sid])["jobID"])
        small.clock.advance(60)
    listed = [j["jobID"] for j in small.handle("DescribeJobs", {})["items"]]
    assert listed == list(reversed(created))
    pages, token, seen_tokens = [], None, set()
    while True:
        params = {"maxResults": 2, **({"nextToken": token} if token else {})}
        answer = small.handle("DescribeJobs", params)
        pages.append([j["jobID"] for j in answer["items"]])
        token = answer.get("nextToken")
        if not token:
            break
        assert token not in seen_tokens
        seen_tokens.add(token)
    assert [j for p in pages for j in p] == listed and len(pages) == 3
    some = small.handle("DescribeJobs", {"filters": {"jobIDs": [created[1], "drsjob-00000000000000000"]}})[
        "items"
    ]
    assert [j["jobID"] for j in some] == [created[1]]
    window = small.handle(
        "DescribeJobs",
        {"filters": {"fromDate": "2026-01-05T08:01:00Z", "toDate": "2026-01-05T08:03:00.000000Z"}},
    )["items"]
    assert [j["jobID"] for j in window] == [created[3], created[2], created[1]]
    err = error_of(small, "DescribeJobs", {"nextToken": "garbage"})
    assert err.code == "ValidationException"
    other_scope = small.handle("DescribeJobs", {"maxResults": 1, "filters": {"jobIDs": created[:3]}})[
        "nextToken"
    ]
    assert error_of(small, "DescribeJobs", {"nextToken": other_scope}).code == "ValidationException"


def test_delete_job_only_when_finished(small: DrsBackend) -> None:
    job_id = start(small, [host_ids(small)["shop-web-01"]])["jobID"]
    assert error_of(small, "DeleteJob", {"jobID": job_id}).code == "ConflictException"
    run_until_complete(small, job_id)
    assert small.handle("DeleteJob", {"jobID": job_id}) == {}
    assert small.handle("DescribeJobs", {})["items"] == []
    assert error_of(small, "DeleteJob", {"jobID": job_id}).code == "ResourceNotFoundException"
    assert small.handle("DescribeJobLogItems", {"jobID": job_id})["items"] == []


def test_tags_on_servers_jobs_and_instances(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    arn = f"arn:aws:drs:us-east-1:123456789012:source-server/{sid}"
    small.handle("TagResource", {"resourceArn": arn, "tags": {"Wave": "1"}})
    assert small.handle("ListTagsForResource", {"resourceArn": arn})["tags"]["Wave"] == "1"
    small.handle("UntagResource", {"resourceArn": arn, "tagKeys": ["Wave", "NotThere"]})
    assert "Wave" not in small.handle("ListTagsForResource", {"resourceArn": arn})["tags"]
    done = run_until_complete(small, start(small, [sid])["jobID"])
    instance_arn = small.handle("DescribeRecoveryInstances", {})["items"][0]["arn"]
    small.handle("TagResource", {"resourceArn": instance_arn, "tags": {"Owner": "me"}})
    assert small.handle("DescribeRecoveryInstances", {})["items"][0]["tags"] == {"Owner": "me"}
    small.handle("TagResource", {"resourceArn": done["arn"], "tags": {"Late": "yes"}})
    assert job(small, done["jobID"])["tags"]["Late"] == "yes"
    missing = "arn:aws:drs:us-east-1:123456789012:job/drsjob-00000000000000000"
    assert (
        error_of(small, "ListTagsForResource", {"resourceArn": missing}).code == "ResourceNotFoundException"
    )
    too_many = {f"k{i}": "v" for i in range(60)}
    assert (
        error_of(small, "TagResource", {"resourceArn": arn, "tags": too_many}).code == "ValidationException"
    )


def test_launch_configuration_and_stopped_disposition(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-app-01"]
    config = small.handle("GetLaunchConfiguration", {"sourceServerID": sid})
    assert config["name"] == "shop-app-01" and config["launchDisposition"] == "STARTED"
    assert config["ec2LaunchTemplateID"].startswith("lt-")
    updated = small.handle(
        "UpdateLaunchConfiguration",
        {"sourceServerID": sid, "launchDisposition": "STOPPED", "copyPrivateIp": True},
    )
    assert updated["launchDisposition"] == "STOPPED" and updated["copyPrivateIp"] is True
    job_id = start(small, [sid], drill=False)["jobID"]
    run_until_complete(small, job_id)
    small.clock.advance(3600)
    assert small.handle("DescribeRecoveryInstances", {})["items"][0]["ec2InstanceState"] == "STOPPED"
    assert job(small, job_id)["participatingServers"][0]["launchActionsStatus"]["runs"] == []
    missing = error_of(small, "GetLaunchConfiguration", {"sourceServerID": "s-00000000000000000"})
    assert missing.code == "ResourceNotFoundException"


def test_put_list_delete_launch_actions(small: DrsBackend) -> None:
    sid = host_ids(small)["shop-web-01"]
    action = {
        "resourceId": sid,
        "actionCode": "My-Doc",
        "order": 5,
        "actionId": "8f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
        "optional": False,
        "active": True,
        "name": "Smoke test",
        "actionVersion": "$LATEST",
        "category": "VALIDATION",
        "description": "smoke",
    }
    put = small.handle("PutLaunchAction", action)
    assert put["resourceId"] == sid and put["type"] == "SSM_COMMAND"
    listed = small.handle("ListLaunchActions", {"resourceId": sid})["items"]
    assert [a["order"] for a in listed] == [2, 5]
    only = small.handle(
        "ListLaunchActions", {"resourceId": sid, "filters": {"actionIds": [action["actionId"]]}}
    )
    assert [a["name"] for a in only["items"]] == ["Smoke test"]
    clash = {**action, "actionId": "9f1c2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "order": 2}
    assert error_of(small, "PutLaunchAction", clash).code == "ConflictException"
    small.handle("DeleteLaunchAction", {"resourceId": sid, "actionId": action["actionId"]})
    assert len(small.handle("ListLaunchActions", {"resourceId": sid})["items"]) == 1
    again = error_of(small, "DeleteLaunchAction", {"resourceId": sid, "actionId": action["actionId"]})
    assert again.code == "ResourceNotFoundException"


def test_launch_records_show_every_launch(small_exact: DrsBackend) -> None:
    ids = host_ids(small_exact)
    first = start(small_exact, [ids["shop-web-01"], ids["new-build"]], drill=True)["jobID"]
    run_until_complete(small_exact, first)
    second = start(small_exact, [ids["shop-web-01"]], drill=False)["jobID"]
    run_until_complete(small_exact, second)
    records = small_exact.launch_records()
    assert [(r.job_id, r.source_server_id, r.is_drill, r.outcome) for r in records] == [
        (first, ids["shop-web-01"], True, "LAUNCHED"),
        (first, ids["new-build"], True, "FAILED"),
        (second, ids["shop-web-01"], False, "LAUNCHED"),
    ]
    assert records[0].launched_at is not None and records[0].launched_at > records[0].requested_at
    assert records[1].launched_at is None
    assert (
        records[2].recovery_instance_id
        == job(small_exact, second)["participatingServers"][0]["recoveryInstanceID"]
    )
