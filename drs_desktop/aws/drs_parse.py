"""DRS response items (botocore dicts) -> frozen domain values; timestamps and durations both ways.

Lenient by design: a missing optional member becomes None or "", an unknown enum value is logged and
read as "still running", and an unreadable timestamp is None. A poll must never crash on one odd field,
and a StartRecovery answer must never be lost because of one (the job exists: the caller needs its ID).
Only a missing ID raises (KeyError/ValueError), since nothing can be done with an anonymous item.

Timestamps come in two forms (reference §5, §12.1): ``2024-06-15T15:00:00.000Z`` as documented and
``2024-09-16T04:42:46.324841+00:00`` as real DRS sends them. Both parse to aware UTC datetimes.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from drs_desktop.domain.drs.extended import ExtensibleServer
from drs_desktop.domain.drs.views import (
    CallerIdentity,
    DrsJobServerView,
    DrsJobView,
    JobLogEntry,
    LastLaunchView,
    LaunchActionView,
    LaunchConfigView,
    PostLaunchRun,
    PostLaunchView,
    RecoveryInstanceView,
)
from drs_desktop.domain.engine.events import JobStatus, LaunchStatus
from drs_desktop.domain.engine.recovery_point import RecoverySnapshot
from drs_desktop.domain.inventory import SourceServer

logger = logging.getLogger(__name__)

_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_NUM = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$",
    re.IGNORECASE,
)
# Years and months have no fixed length; DRS lags never get there, so calendar approximations do.
_DURATION_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:[^:]*:[^:]*:(\d{12}):")

E = TypeVar("E", bound=StrEnum)


# -- scalars -------------------------------------------------------------------------------------------


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from either DRS form; None for a missing or unreadable value."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        logger.warning("Ignoring a timestamp of type %s", type(value).__name__)
        return None
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        logger.warning("Ignoring an unreadable timestamp %r", value[:40])
        return None
    date, clock, fraction, zone = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")  # Python takes at most 6 digits; DRS sends 3 or 6
    if zone is None or zone in ("Z", "z"):
        offset = "+00:00"
    elif len(zone) == 3:
        offset = zone + ":00"
    elif ":" not in zone:
        offset = f"{zone[:3]}:{zone[3:]}"
    else:
        offset = zone
    try:
        parsed = datetime.fromisoformat(f"{date}T{clock}.{micro}{offset}")
    except ValueError:
        logger.warning("Ignoring an out-of-range timestamp %r", value[:40])
        return None
    return parsed.astimezone(UTC)


def format_timestamp(moment: datetime, *, round_up: bool = False) -> str:
    """The ``YYYY-MM-DDTHH:MM:SS.fffZ`` string DRS date filters require (botocore rejects datetimes
    and the model's pattern rejects ``+00:00``). Milliseconds are floored, or ceiled with ``round_up``
    (for an upper bound), so an inclusive filter never loses the boundary item."""
    if moment.tzinfo is None:
        raise ValueError("DRS date filters need a timezone-aware datetime")
    moment = moment.astimezone(UTC)
    if round_up and moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_duration(value: Any) -> float | None:
    """Seconds in an ISO-8601 duration such as ``PT1M30S`` or ``P1DT2H``; None if missing or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    match = _DURATION.match(value.strip())
    if match is None or all(group is None for group in match.groups()):
        logger.warning("Ignoring an unreadable duration %r", value[:40])
        return None
    total = 0.0
    for group, unit in zip(match.groups(), _DURATION_UNITS, strict=True):
        if group is not None:
            total += float(group.replace(",", ".")) * unit
    return total


def account_from_arn(arn: str) -> str:
    """The 12-digit account of an ARN, or "" if it has none."""
    match = _ARN_ACCOUNT.match(arn or "")
    return match.group(1) if match else ""


# -- helpers -------------------------------------------------------------------------------------------


def _dig(item: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(item, Mapping):
            return None
        item = item.get(key)
    return item


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _tags(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): "" if val is None else str(val) for key, val in value.items()}


def _required_id(item: Any, key: str) -> str:
    value = _dig(item, key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"DRS returned an item without {key}")
    return value


def _enum(kind: type[E], value: Any, fallback: E) -> E:
    try:
        return kind(value)
    except ValueError:
        logger.warning("Unknown %s %r read as %s", kind.__name__, value, fallback.value)
        return fallback


# -- resources -----------------------------------------------------------------------------------------


def parse_caller_identity(response: Mapping[str, Any]) -> CallerIdentity:
    return CallerIdentity(
        account=_str(response.get("Account")),
        arn=_str(response.get("Arn")),
        user_id=_str(response.get("UserId")),
    )


def parse_source_server(item: Mapping[str, Any]) -> SourceServer:
    """A DescribeSourceServers item. The last launch status is lastLaunchResult (NOT_STARTED, PENDING,
    SUCCEEDED, FAILED), else lifeCycle.lastLaunch.status."""
    hints = _dig(item, "sourceProperties", "identificationHints")
    hostname = _str(_dig(hints, "hostname"))
    if not hostname:
        fqdn = _str(_dig(hints, "fqdn"))
        hostname = fqdn.split(".", 1)[0] if fqdn else _str(_dig(hints, "awsInstanceID"))
    lag = parse_duration(_dig(item, "dataReplicationInfo", "lagDuration"))
    last_status = _str(item.get("lastLaunchResult")) or _str(_dig(item, "lifeCycle", "lastLaunch", "status"))
    return SourceServer(
        source_server_id=_required_id(item, "sourceServerID"),
        hostname=hostname,
        tags=_tags(item.get("tags")),
        replication_state=_str(_dig(item, "dataReplicationInfo", "dataReplicationState")),
        lag_seconds=None if lag is None else math.ceil(lag),
        os=_str(_dig(item, "sourceProperties", "os", "fullString")),
        last_launch_status=last_status,
        last_launched_at=parse_timestamp(
            _dig(item, "lifeCycle", "lastLaunch", "initiated", "apiCallDateTime")
        ),
        arn=_str(item.get("arn")),
        ips=_ips(_dig(item, "sourceProperties", "networkInterfaces")),
        aws_instance_id=_instance_id(_dig(hints, "awsInstanceID")),
        origin_account_id=_str(_dig(item, "sourceCloudProperties", "originAccountID")),
        origin_region=_str(_dig(item, "sourceCloudProperties", "originRegion")),
        **_staging_area(item.get("stagingArea")),
    )


def _instance_id(value: Any) -> str:
    """``awsInstanceID``, or "" when absent. Anything but an ``i-...`` string is logged and read as none,
    as ``_ips`` does: the server stays in the inventory, and EC2 facts are never copied from a guessed
    instance (such a server counts as on premises there)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _INSTANCE_ID.match(value):
        logger.warning("DRS gave an awsInstanceID that is not an EC2 instance ID (%r); ignored", value)
        return ""
    return value


def _ips(interfaces: Any) -> tuple[str, ...]:
    """The IPs of ``networkInterfaces``, the primary interface's first, each once; anything that is not a
    list of interfaces with string IPs is skipped (an IP is a fact to check against, never guessed)."""
    if not isinstance(interfaces, list):
        return ()
    ordered = sorted(
        (i for i in interfaces if isinstance(i, Mapping)), key=lambda i: not bool(i.get("isPrimary"))
    )
    ips = [
        ip for i in ordered if isinstance(i.get("ips"), list) for ip in i["ips"] if isinstance(ip, str) and ip
    ]
    return tuple(dict.fromkeys(ips))


def _staging_area(area: Any) -> dict[str, str]:
    """``stagingArea`` of an extended source server (status EXTENDED or EXTENSION_ERROR); nothing for a
    server that is not one (NOT_EXTENDED, or no stagingArea at all)."""
    status = _str(_dig(area, "status"))
    account = _str(_dig(area, "stagingAccountID"))
    if not account or status == "NOT_EXTENDED":
        return {}
    return {
        "staging_account_id": account,
        "staging_source_server_arn": _str(_dig(area, "stagingSourceServerArn")),
        "extension_status": status,
        "extension_error": _str(_dig(area, "errorMessage")),
    }


def parse_extensible_server(item: Mapping[str, Any], staging_account_id: str) -> ExtensibleServer:
    """A ListExtensibleSourceServers item (``StagingSourceServer``: hostname, arn, tags)."""
    arn = _required_id(item, "arn")
    return ExtensibleServer(
        arn=arn,
        hostname=_str(item.get("hostname")),
        staging_account_id=account_from_arn(arn) or staging_account_id,
        tags=_tags(item.get("tags")),
    )


def parse_last_launch(item: Mapping[str, Any]) -> LastLaunchView:
    """The ``lifeCycle.lastLaunch.initiated`` of a DescribeSourceServers item (for reconcile and cleanup)."""
    initiated = _dig(item, "lifeCycle", "lastLaunch", "initiated")
    return LastLaunchView(
        source_server_id=_required_id(item, "sourceServerID"),
        job_id=_str(_dig(initiated, "jobID")),
        initiated_at=parse_timestamp(_dig(initiated, "apiCallDateTime")),
        launch_type=_str(_dig(initiated, "type")),
    )


def _parse_run(item: Any) -> PostLaunchRun:
    action = _dig(item, "action")
    return PostLaunchRun(
        run_id=_str(_dig(item, "runId")),
        status=_str(_dig(item, "status")),
        action_id=_str(_dig(action, "actionId")),
        action_name=_str(_dig(action, "name")),
        action_code=_str(_dig(action, "actionCode")),
        optional=bool(_dig(action, "optional")),
        failure_reason=_str(_dig(item, "failureReason")),
    )


def _parse_participant(item: Mapping[str, Any]) -> DrsJobServerView:
    status = _enum(LaunchStatus, item.get("launchStatus"), LaunchStatus.IN_PROGRESS)
    actions = item.get("launchActionsStatus")
    post_launch = None
    if isinstance(actions, Mapping):
        runs = actions.get("runs")
        post_launch = PostLaunchView(
            ssm_agent_seen_at=parse_timestamp(actions.get("ssmAgentDiscoveryDatetime")),
            runs=tuple(_parse_run(run) for run in runs) if isinstance(runs, list) else (),
        )
    return DrsJobServerView(
        source_server_id=_required_id(item, "sourceServerID"),
        launch_status=status,
        recovery_instance_id=_opt_str(item.get("recoveryInstanceID")),
        post_launch=post_launch,
    )


def parse_job(item: Mapping[str, Any]) -> DrsJobView:
    """A Job. An unknown status reads as STARTED (still active), an unknown launch status as
    IN_PROGRESS, so nothing is declared finished on a value this code does not know."""
    participants = item.get("participatingServers")
    servers = (
        tuple(_parse_participant(p) for p in participants if isinstance(p, Mapping))
        if isinstance(participants, list)
        else ()
    )
    return DrsJobView(
        job_id=_required_id(item, "jobID"),
        status=_enum(JobStatus, item.get("status"), JobStatus.STARTED),
        arn=_str(item.get("arn")),
        type=_str(item.get("type")),
        initiated_by=_str(item.get("initiatedBy")),
        created_at=parse_timestamp(item.get("creationDateTime")),
        ended_at=parse_timestamp(item.get("endDateTime")),
        tags=_tags(item.get("tags")),
        servers=servers,
    )


def parse_job_log_entry(item: Mapping[str, Any]) -> JobLogEntry:
    data = item.get("eventData")
    return JobLogEntry(
        at=parse_timestamp(item.get("logDateTime")),
        event=_str(item.get("event")),
        source_server_id=_opt_str(_dig(data, "sourceServerID")),
        raw_error=_opt_str(_dig(data, "rawError")),
        conversion_server_id=_opt_str(_dig(data, "conversionServerID")),
        target_instance_id=_opt_str(_dig(data, "targetInstanceID")),
    )


def parse_recovery_instance(item: Mapping[str, Any]) -> RecoveryInstanceView:
    return RecoveryInstanceView(
        recovery_instance_id=_required_id(item, "recoveryInstanceID"),
        source_server_id=_str(item.get("sourceServerID")),
        ec2_instance_id=_opt_str(item.get("ec2InstanceID")),
        job_id=_opt_str(item.get("jobID")),
        is_drill=_opt_bool(item.get("isDrill")),
        ec2_state=_str(item.get("ec2InstanceState")),
        point_in_time=parse_timestamp(item.get("pointInTimeSnapshotDateTime")),
        arn=_str(item.get("arn")),
        origin_environment=_str(item.get("originEnvironment")),
        tags=_tags(item.get("tags")),
    )


def parse_snapshot(item: Mapping[str, Any]) -> RecoverySnapshot:
    """A recovery snapshot. ``timestamp`` is optional (reference §12.9): without it, the listed
    ``ebsSnapshots`` tell a finished snapshot from one still being taken."""
    ebs = item.get("ebsSnapshots")
    return RecoverySnapshot(
        snapshot_id=_required_id(item, "snapshotID"),
        server_id=_str(item.get("sourceServerID")),
        timestamp=parse_timestamp(item.get("timestamp")),
        expected_timestamp=parse_timestamp(item.get("expectedTimestamp")),
        ebs_snapshots=tuple(e for e in ebs if isinstance(e, str) and e) if isinstance(ebs, list) else (),
    )


def parse_launch_configuration(item: Mapping[str, Any]) -> LaunchConfigView:
    return LaunchConfigView(
        source_server_id=_required_id(item, "sourceServerID"),
        name=_str(item.get("name")),
        ec2_launch_template_id=_str(item.get("ec2LaunchTemplateID")),
        launch_disposition=_str(item.get("launchDisposition")),
        right_sizing=_str(item.get("targetInstanceTypeRightSizingMethod")),
        copy_private_ip=_opt_bool(item.get("copyPrivateIp")),
        copy_tags=_opt_bool(item.get("copyTags")),
        os_byol=_opt_bool(_dig(item, "licensing", "osByol")),
        post_launch_enabled=_opt_bool(item.get("postLaunchEnabled")),
        launch_into_instance_id=_opt_str(
            _dig(item, "launchIntoInstanceProperties", "launchIntoEC2InstanceID")
        ),
    )


def parse_launch_action(item: Mapping[str, Any]) -> LaunchActionView:
    order = item.get("order")
    return LaunchActionView(
        action_id=_required_id(item, "actionId"),
        name=_str(item.get("name")),
        action_code=_str(item.get("actionCode")),
        type=_str(item.get("type")),
        category=_str(item.get("category")),
        order=order if isinstance(order, int) else 0,
        active=item.get("active") is not False,
        optional=item.get("optional") is True,
        action_version=_str(item.get("actionVersion")),
        description=_str(item.get("description")),
    )
