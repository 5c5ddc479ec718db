"""The journal of applies of desired launch settings (``launch_applies``, migration 0013).

An apply writes to two services per server (a new EC2 launch template version, made the default, then
DRS's UpdateLaunchConfiguration) and must survive a crash between any two of those writes. So every
server's row says which step it reached and which write was sent without its answer recorded
(``pending_step``); the writes meant for it are fixed when the apply starts (the new version's whole data,
the DRS fields), so a resume resends exactly the same request, ClientToken included. The service
(``services.launch_apply``) commits the intent before each write and the answer right after, through the
process's one writer. A corrupt JSON column is reported (``StorageError``), never read as "nothing to do".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from drs_desktop.domain.ec2 import LaunchTemplateData
from drs_desktop.domain.errors import StorageError
from drs_desktop.domain.launch.diff import DrsUpdate
from drs_desktop.domain.launch.model import Disposition, RightSizing
from drs_desktop.storage.db import Database, Readable, from_db_time, to_db_time, utc_now


class ServerStep(StrEnum):
    """How far one server got, in order; the last three are where a server ends."""

    PENDING = "PENDING"  # nothing checked or sent
    CHECKED = "CHECKED"  # DRS and EC2 still hold what the preview read
    VERSION_CREATED = "VERSION_CREATED"  # the new template version exists, not the default yet
    DEFAULT_SET = "DEFAULT_SET"  # the new version is the default; DRS not updated yet
    DRS_UPDATED = "DRS_UPDATED"  # every write done, not read back yet
    VERIFIED = "VERIFIED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"

    @property
    def ended(self) -> bool:
        return self in (ServerStep.VERIFIED, ServerStep.FAILED, ServerStep.SKIPPED)


class ApplyStatus(StrEnum):
    RUNNING = "RUNNING"
    DONE = "DONE"


@dataclass(frozen=True)
class ApplyServer:
    """One server of an apply: what is meant for it and how far it got."""

    server_id: str
    position: int
    hostname: str = ""
    step: ServerStep = ServerStep.PENDING
    pending_step: str = ""  # the write sent whose answer was not recorded ("" none)
    template_id: str = ""
    base_version: int | None = None
    new_version: int | None = None
    template_data: LaunchTemplateData | None = None  # None: no template change
    drs_update: DrsUpdate | None = None  # None: no DRS change
    drs_before: Mapping[str, str] | None = None  # DRS values the preview read, as it shows them
    reason: str = ""

    def half_changed(self) -> str:
        """What a server left between steps holds, in words ("" when it is consistent: not started,
        or ended). A write sent without its recorded answer may or may not have happened."""
        version = f"template version {self.new_version}" if self.new_version else "a template version"
        unsure = {
            "create_version": "a new template version may have been created (its answer was not recorded)",
            "set_default": f"{version} created, may or may not be the default yet",
            "update_drs": f"{version} is the default; DRS's launch configuration may or may not be updated",
        }
        if self.pending_step in unsure:
            return f"half-changed: {unsure[self.pending_step]}"
        if self.step is ServerStep.VERSION_CREATED:
            return f"half-changed: {version} created, not yet default"
        if self.step is ServerStep.DEFAULT_SET and self.drs_update is not None:
            return f"half-changed: {version} is the default, DRS's launch configuration not yet updated"
        if self.step in (ServerStep.DEFAULT_SET, ServerStep.DRS_UPDATED):
            return "changed, not yet read back and verified"
        return ""


@dataclass(frozen=True)
class ApplyRecord:
    """One apply of one plan revision to one target, with its servers in the plan's order."""

    apply_id: str
    plan_id: str
    plan_name: str
    revision: int
    region: str
    status: ApplyStatus
    created_at: datetime
    updated_at: datetime
    servers: tuple[ApplyServer, ...] = ()
    account_id: str = ""
    endpoint_url: str = ""
    profile: str = ""
    operator: str = ""
    finished_at: datetime | None = None

    def count(self, step: ServerStep) -> int:
        return sum(1 for s in self.servers if s.step is step)

    @property
    def half_changed(self) -> tuple[ApplyServer, ...]:
        return tuple(s for s in self.servers if s.half_changed())


_APPLY_COLUMNS = (
    "id, plan_id, plan_name, revision, account_id, region, endpoint_url, profile, status, operator, "
    "created_at, updated_at, finished_at"
)
_SERVER_COLUMNS = (
    "server_id, position, hostname, status, pending_step, template_id, base_version, new_version, "
    "template_data, drs_update, drs_before, reason"
)


def create_apply(db: Database, record: ApplyRecord) -> ApplyRecord:
    """Write a new apply and its servers (all of it in one transaction)."""
    with db.transaction() as conn:
        conn.execute(
            f"INSERT INTO launch_applies ({_APPLY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                record.apply_id,
                record.plan_id,
                record.plan_name,
                record.revision,
                record.account_id,
                record.region,
                record.endpoint_url,
                record.profile,
                record.status.value,
                record.operator,
                to_db_time(record.created_at),
                to_db_time(record.updated_at),
                None,
            ),
        )
        at = to_db_time(record.created_at)
        conn.executemany(
            f"INSERT INTO launch_apply_servers (apply_id, {_SERVER_COLUMNS}, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(record.apply_id, *_server_row(s), at) for s in record.servers],
        )
    return record


def save_server(db: Database, apply_id: str, server: ApplyServer, *, now: datetime | None = None) -> None:
    """Record a server's step (the intent before a write, its answer after)."""
    at = to_db_time(now or utc_now())
    with db.transaction() as conn:
        cursor = conn.execute(
            "UPDATE launch_apply_servers SET status = ?, pending_step = ?, template_id = ?, "
            "base_version = ?, new_version = ?, template_data = ?, drs_update = ?, drs_before = ?, "
            "reason = ?, updated_at = ? WHERE apply_id = ? AND server_id = ?",
            (*_server_row(server)[3:], at, apply_id, server.server_id),
        )
        if cursor.rowcount != 1:
            raise StorageError(f"apply {apply_id} has no server {server.server_id}")
        conn.execute("UPDATE launch_applies SET updated_at = ? WHERE id = ?", (at, apply_id))


def finish_apply(db: Database, apply_id: str, *, now: datetime | None = None) -> None:
    at = to_db_time(now or utc_now())
    with db.transaction() as conn:
        conn.execute(
            "UPDATE launch_applies SET status = 'DONE', updated_at = ?, finished_at = ? WHERE id = ?",
            (at, at, apply_id),
        )


def load_apply(db: Readable, apply_id: str) -> ApplyRecord | None:
    with db.reader() as conn:
        row = conn.execute(
            f"SELECT {_APPLY_COLUMNS} FROM launch_applies WHERE id = ?", (apply_id,)
        ).fetchone()
        if row is None:
            return None
        servers = conn.execute(
            f"SELECT {_SERVER_COLUMNS} FROM launch_apply_servers WHERE apply_id = ? ORDER BY position",
            (apply_id,),
        ).fetchall()
    return _record(row, servers)


def unfinished_applies(db: Readable) -> list[ApplyRecord]:
    """Applies still RUNNING (interrupted, or running now in another process), oldest first."""
    with db.reader() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM launch_applies WHERE status = 'RUNNING' ORDER BY created_at, id"
            ).fetchall()
        ]
    records = [load_apply(db, apply_id) for apply_id in ids]
    return [r for r in records if r is not None]


# -- rows ------------------------------------------------------------------------------------------------


def _server_row(s: ApplyServer) -> tuple[Any, ...]:
    return (
        s.server_id,
        s.position,
        s.hostname,
        s.step.value,
        s.pending_step,
        s.template_id,
        s.base_version,
        s.new_version,
        "" if s.template_data is None else json.dumps(template_data_json(s.template_data), sort_keys=True),
        "" if s.drs_update is None else json.dumps(drs_update_json(s.drs_update), sort_keys=True),
        "" if s.drs_before is None else json.dumps(dict(s.drs_before), sort_keys=True),
        s.reason,
    )


def _record(row: sqlite3.Row | tuple[Any, ...], servers: Iterable[tuple[Any, ...]]) -> ApplyRecord:
    (apply_id, plan_id, name, revision, account, region, endpoint, profile, status, operator) = row[:10]
    created, updated, finished = row[10:13]
    try:
        parsed = tuple(_server(apply_id, r) for r in servers)
        return ApplyRecord(
            apply_id=apply_id,
            plan_id=plan_id,
            plan_name=name,
            revision=int(revision),
            region=region,
            status=ApplyStatus(status),
            created_at=from_db_time(created),
            updated_at=from_db_time(updated),
            servers=parsed,
            account_id=account,
            endpoint_url=endpoint,
            profile=profile,
            operator=operator,
            finished_at=from_db_time(finished) if finished else None,
        )
    except (ValueError, TypeError) as exc:
        raise StorageError(f"launch settings apply {apply_id} cannot be read: {exc}") from exc


def _server(apply_id: str, r: tuple[Any, ...]) -> ApplyServer:
    server_id = r[0]
    try:
        return ApplyServer(
            server_id=server_id,
            position=int(r[1]),
            hostname=r[2],
            step=ServerStep(r[3]),
            pending_step=r[4],
            template_id=r[5],
            base_version=r[6],
            new_version=r[7],
            template_data=template_data_of(json.loads(r[8])) if r[8] else None,
            drs_update=drs_update_of(json.loads(r[9])) if r[9] else None,
            drs_before=_str_map(json.loads(r[10])) if r[10] else None,
            reason=r[11],
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise StorageError(
            f"launch settings apply {apply_id}, server {server_id}: a corrupt row ({exc})"
        ) from exc


def template_data_json(data: LaunchTemplateData) -> dict[str, Any]:
    return {
        "subnet_id": data.subnet_id,
        "security_group_ids": list(data.security_group_ids),
        "instance_type": data.instance_type,
        "private_ip": data.private_ip,
        "associate_public_ip": data.associate_public_ip,
        "instance_tags": [[k, v] for k, v in data.instance_tags],
    }


def template_data_of(value: object) -> LaunchTemplateData:
    if not isinstance(value, dict):
        raise ValueError("template data is not an object")
    groups = value["security_group_ids"]
    tags = value["instance_tags"]
    if not isinstance(groups, list) or not isinstance(tags, list):
        raise ValueError("template data lists are not lists")
    return LaunchTemplateData(
        subnet_id=_opt_str(value["subnet_id"]),
        security_group_ids=tuple(str(g) for g in groups),
        instance_type=_opt_str(value["instance_type"]),
        private_ip=_opt_str(value["private_ip"]),
        associate_public_ip=_opt_bool(value["associate_public_ip"]),
        instance_tags=tuple((str(k), str(v)) for k, v in tags),
    )


def drs_update_json(update: DrsUpdate) -> dict[str, Any]:
    return {
        "copy_private_ip": update.copy_private_ip,
        "os_byol": update.os_byol,
        "launch_disposition": None if update.launch_disposition is None else str(update.launch_disposition),
        "right_sizing": None if update.right_sizing is None else str(update.right_sizing),
        "copy_tags": update.copy_tags,
    }


def drs_update_of(value: object) -> DrsUpdate:
    if not isinstance(value, dict):
        raise ValueError("the DRS update is not an object")
    disposition = value["launch_disposition"]
    sizing = value["right_sizing"]
    return DrsUpdate(
        copy_private_ip=_opt_bool(value["copy_private_ip"]),
        os_byol=_opt_bool(value["os_byol"]),
        launch_disposition=None if disposition is None else Disposition(disposition),
        right_sizing=None if sizing is None else RightSizing(sizing),
        copy_tags=_opt_bool(value["copy_tags"]),
    )


def _opt_str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{value!r} is not a string")


def _opt_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{value!r} is not true or false")


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return {str(k): str(v) for k, v in value.items()}


def with_step(server: ApplyServer, step: ServerStep, **changes: Any) -> ApplyServer:
    """``server`` at ``step`` (pending write cleared unless given)."""
    return replace(server, step=step, pending_step=changes.pop("pending_step", ""), **changes)
