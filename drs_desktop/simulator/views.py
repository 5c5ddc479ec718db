"""The world's records as DRS API dicts (output shapes of botocore's model, member names as there).

Fields DRS leaves out stay out (an absent ``recoveryInstanceID`` is not ``None``), timestamps use the
scenario's style (``+00:00`` with microseconds by default, as real DRS answers), durations are ISO 8601.
"""

from __future__ import annotations

from typing import Any

from drs_desktop.simulator.ec2_sources import cloud_properties
from drs_desktop.simulator.entities import Instance, Job, LogItem, Server, Snapshot
from drs_desktop.simulator.fleet import NO_DATA_STATES
from drs_desktop.simulator.ids import format_duration
from drs_desktop.simulator.world import World

_INITIATION_STEPS = (
    "WAIT",
    "CREATE_SECURITY_GROUP",
    "LAUNCH_REPLICATION_SERVER",
    "BOOT_REPLICATION_SERVER",
    "AUTHENTICATE_WITH_SERVICE",
    "DOWNLOAD_REPLICATION_SOFTWARE",
    "CREATE_STAGING_DISKS",
    "ATTACH_STAGING_DISKS",
    "PAIR_REPLICATION_SERVER_WITH_AGENT",
    "CONNECT_AGENT_TO_REPLICATION_SERVER",
    "START_DATA_TRANSFER",
)


def server_view(w: World, s: Server) -> dict[str, Any]:
    now = w.now
    fmt = w.fmt
    state = s.replication_state
    replication: dict[str, Any] = {
        "dataReplicationState": state,
        "replicatedDisks": _replicated_disks(s),
        "stagingAvailabilityZone": f"{w.scenario.region}b",
    }
    if state not in ("DISCONNECTED", "STOPPED", "INITIATING", "INITIAL_SYNC"):
        lag = now - s.replication_stopped_at if s.replication_stopped_at is not None else s.lag_seconds
        replication["lagDuration"] = format_duration(lag)
    if state in ("INITIATING", "INITIAL_SYNC"):
        done = len(_INITIATION_STEPS) if state == "INITIAL_SYNC" else 4 + int(s.snapshot_offset) % 5
        replication["dataReplicationInitiation"] = {
            "startDateTime": fmt(s.added_ts),
            "steps": [
                {
                    "name": name,
                    "status": "SUCCEEDED" if i < done else ("IN_PROGRESS" if i == done else "NOT_STARTED"),
                }
                for i, name in enumerate(_INITIATION_STEPS)
            ],
        }
        if state == "INITIAL_SYNC":
            replication["etaDateTime"] = fmt(now + 3600 + s.snapshot_offset * 6)
    if s.replication_error:
        replication["dataReplicationError"] = {
            "error": s.replication_error,
            "rawError": f"Replication stalled: {s.replication_error.replace('_', ' ').lower()}",
        }
    life: dict[str, Any] = {
        "addedToServiceDateTime": fmt(s.added_ts),
        "lastSeenByServiceDateTime": fmt(
            s.replication_stopped_at
            if s.replication_stopped_at is not None
            else now - (s.snapshot_offset % 30)
        ),
    }
    if s.first_byte_ts is not None:
        life["firstByteDateTime"] = fmt(s.first_byte_ts)
        life["elapsedReplicationDuration"] = format_duration(now - s.first_byte_ts)
    if s.last_launch is not None:
        ll = s.last_launch
        life["lastLaunch"] = {
            "initiated": {"apiCallDateTime": fmt(ll.api_call_ts), "jobID": ll.job_id, "type": ll.launch_type},
            "status": ll.status,
        }
    staging: dict[str, Any] = {"status": "NOT_EXTENDED"}
    if s.staging_account is not None:
        staging = {
            "status": "EXTENDED",
            "stagingAccountID": s.staging_account,
            "stagingSourceServerArn": s.staging_source_arn
            or s.arn.replace(f":{w.scenario.account_id}:", f":{s.staging_account}:"),
        }
    view: dict[str, Any] = {
        "sourceServerID": s.server_id,
        "arn": s.arn,
        "tags": dict(s.tags),
        "lastLaunchResult": s.last_launch_result,
        "dataReplicationInfo": replication,
        "lifeCycle": life,
        "sourceProperties": {
            "lastUpdatedDateTime": fmt(s.added_ts + 600),
            "recommendedInstanceType": s.instance_type,
            "identificationHints": {"fqdn": s.fqdn, "hostname": s.hostname},
            "networkInterfaces": [{"macAddress": s.mac, "ips": [s.ip], "isPrimary": True}],
            "disks": [{"deviceName": name, "bytes": size} for name, size in s.disks],
            "cpus": [{"cores": s.cpus, "modelName": s.cpu_model}],
            "ramBytes": s.ram_bytes,
            "os": {"fullString": s.os_string},
            "supportsNitroInstances": True,
            "architecture": "x86_64",
        },
        "stagingArea": staging,
        "replicationDirection": "FAILOVER",
        "agentVersion": s.agent_version,
    }
    if s.aws_instance_id is not None:
        view["sourceProperties"]["identificationHints"]["awsInstanceID"] = s.aws_instance_id
        view["sourceCloudProperties"] = cloud_properties(
            s, w.replicated, w.scenario.account_id, w.scenario.region
        )
    if s.recovery_instance_id is not None:
        view["recoveryInstanceId"] = s.recovery_instance_id
    return view


def _replicated_disks(s: Server) -> list[dict[str, Any]]:
    gone = s.replication_state in ("DISCONNECTED", "STOPPED")
    syncing = s.replication_state in NO_DATA_STATES and not gone
    disks = []
    for name, size in s.disks:
        total = 0 if gone else size
        replicated = total // 3 if syncing else total
        disks.append(
            {
                "deviceName": name,
                "totalStorageBytes": total,
                "replicatedStorageBytes": replicated,
                "rescannedStorageBytes": 0,
                "backloggedStorageBytes": (total - replicated) if syncing else 0,
            }
        )
    return disks


def job_view(w: World, job: Job) -> dict[str, Any]:
    servers = []
    for p in job.participants:
        status: dict[str, Any] = {"runs": [dict(r) for r in p.runs]}
        if p.ssm_discovery_ts is not None:
            status["ssmAgentDiscoveryDatetime"] = w.fmt(p.ssm_discovery_ts)
        item: dict[str, Any] = {
            "sourceServerID": p.server_id,
            "launchStatus": p.launch_status,
            "launchActionsStatus": status,
        }
        if p.recovery_instance_id is not None and p.show_instance_id:
            item["recoveryInstanceID"] = p.recovery_instance_id
        servers.append(item)
    view: dict[str, Any] = {
        "jobID": job.job_id,
        "arn": job.arn,
        "type": job.job_type,
        "initiatedBy": job.initiated_by,
        "creationDateTime": w.fmt(job.created_ts),
        "status": job.status,
        "tags": dict(job.tags),
        "participatingServers": servers,
        "participatingResources": [],
    }
    if job.end_ts is not None:
        view["endDateTime"] = w.fmt(job.end_ts)
    return view


def log_view(w: World, item: LogItem) -> dict[str, Any]:
    return {"logDateTime": w.fmt(item.ts), "event": item.event, "eventData": dict(item.data)}


def _loopback(w: World, i: Instance) -> list[str]:
    address = w.loopback.get(i.instance_id)
    return [address] if address else []


def instance_view(w: World, i: Instance) -> dict[str, Any]:
    server = w.servers[i.server_id]
    return {
        "ec2InstanceID": i.instance_id,
        "ec2InstanceState": i.state,
        "jobID": i.job_id,
        "recoveryInstanceID": i.instance_id,
        "sourceServerID": i.server_id,
        "arn": i.arn,
        "tags": dict(i.tags),
        "isDrill": i.is_drill,
        "originEnvironment": "ON_PREMISES",
        "pointInTimeSnapshotDateTime": w.fmt(i.pit_ts),
        "agentVersion": server.agent_version,
        "failback": {"state": "FAILBACK_NOT_STARTED"},
        "dataReplicationInfo": {"dataReplicationState": "NOT_STARTED"},
        "recoveryInstanceProperties": {
            "lastUpdatedDateTime": w.fmt(i.created_ts),
            "identificationHints": {"hostname": server.hostname, "awsInstanceID": i.instance_id},
            # A health-check listener's loopback address (``listeners``) comes after the private one.
            "networkInterfaces": [
                {"macAddress": server.mac, "ips": [server.ip, *_loopback(w, i)], "isPrimary": True}
            ],
            "disks": [{"internalDeviceName": n, "bytes": b, "ebsVolumeID": v} for n, b, v in i.volumes],
            "cpus": [{"cores": server.cpus, "modelName": server.cpu_model}],
            "ramBytes": server.ram_bytes,
            "os": {"fullString": server.os_string},
        },
    }


def snapshot_view(w: World, snap: Snapshot) -> dict[str, Any]:
    """A snapshot being taken lists neither ``timestamp`` nor its EBS snapshots; a finished one lists its
    EBS snapshots, and its ``timestamp`` unless it is one DRS shows without (drs_api.md §12.9)."""
    view: dict[str, Any] = {
        "snapshotID": snap.snapshot_id,
        "sourceServerID": snap.server_id,
        "expectedTimestamp": w.fmt(snap.expected_ts),
    }
    if snap.ts is not None:
        view["ebsSnapshots"] = list(snap.ebs_snapshots)
        if snap.timestamp_shown:
            view["timestamp"] = w.fmt(snap.ts)
    return view


def launch_config_view(s: Server) -> dict[str, Any]:
    c = s.launch_config
    view: dict[str, Any] = {
        "sourceServerID": s.server_id,
        "name": c.name,
        "ec2LaunchTemplateID": c.launch_template_id,
        "launchDisposition": c.launch_disposition,
        "targetInstanceTypeRightSizingMethod": c.right_sizing,
        "copyPrivateIp": c.copy_private_ip,
        "copyTags": c.copy_tags,
        "licensing": {"osByol": c.os_byol},
        "postLaunchEnabled": c.post_launch_enabled,
    }
    if c.launch_into_instance_id:
        view["launchIntoInstanceProperties"] = {"launchIntoEC2InstanceID": c.launch_into_instance_id}
    if c.recovery_mode:
        view["recoveryMode"] = c.recovery_mode
    return view
