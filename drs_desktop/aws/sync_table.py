"""The team's sync table (docs/sync.md): where it is, creating it, recognising it, and the IAM policy an
operator needs on it.

``create_table`` is what ``drs-desktop sync init`` runs. It is safe to run again on a table that exists:
it never overwrites, only fills in what is missing (every write has the condition
``attribute_not_exists(pk)``), and it refuses, untouched, a table whose key schema is not the one in
docs/sync.md. It writes the change counter before the table header, so a header on a table means its
set-up is complete. A table created by the CloudFormation template (``resources/sync-table.yaml``) has
no header yet: ``sync init`` on it writes the header and the counter and leaves the table as it is.

Point-in-time recovery is switched on and the result says whether it is: where the endpoint refuses it
(an emulator, a restricted account), the result carries the refusal, never a pretended success.

The table may live in another account, region or profile than DRS: its ``SyncTableTarget`` carries its
own credentials (``aws.session.AwsTarget``: a profile, a role or typed keys).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3.session
from botocore.exceptions import ClientError

from drs_desktop import __version__
from drs_desktop.aws.dynamodb_errors import error_code, map_dynamodb_error
from drs_desktop.aws.session import sts_client
from drs_desktop.aws.sync_schema import (
    COUNTER_SK,
    HEADER_SK,
    KEY_SCHEMA,
    META,
    PK,
    SCHEMA_VERSION,
    SK,
    TABLE_TAGS,
    SyncTableTarget,
    TableHeader,
    check_app_version,
    check_key_schema,
    dynamodb_client,
    least_privilege_policy,
    sync_session,
    version_key,
)
from drs_desktop.domain.sync_errors import (
    SyncError,
    SyncTableMismatch,
    SyncTableTooNew,
    SyncUnavailable,
)

__all__ = [
    "InitResult",
    "PitrStatus",
    "SyncTableTarget",
    "TableHeader",
    "TableInfo",
    "check_table",
    "create_table",
    "describe",
    "dynamodb_client",
    "least_privilege_policy",
]

logger = logging.getLogger(__name__)

#: DescribeTable polling while a new table is CREATING (seconds of ``sleep`` between polls, and how many
#: polls): up to 5 minutes; a new on-demand table takes seconds.
ACTIVE_POLL_SECONDS = 2.0
ACTIVE_POLLS = 150
#: UpdateContinuousBackups right after CreateTable may answer ContinuousBackupsUnavailableException for a
#: little while; it is retried this many times, the delay doubling from PITR_FIRST_DELAY seconds.
PITR_ATTEMPTS = 6
PITR_FIRST_DELAY = 2.0

# -- what init and check report --------------------------------------------------------------------------


@dataclass(frozen=True)
class PitrStatus:
    """Point-in-time recovery: ``enabled`` True (on), False (off: ``reason`` says who refused), or None
    (unknown: ``reason`` says why); ``changed`` when this call switched it on."""

    enabled: bool | None
    changed: bool = False
    reason: str = ""

    def describe(self) -> str:
        if self.enabled:
            return "point-in-time recovery: on" + (" (switched on now)" if self.changed else "")
        state = "off" if self.enabled is False else "unknown"
        return f"point-in-time recovery: {state}: {self.reason}"


@dataclass(frozen=True)
class TableInfo:
    """What ``check_table`` found: the table and its header."""

    table: str
    arn: str
    status: str
    billing_mode: str
    header: TableHeader
    #: When DynamoDB created the table (DescribeTable's CreationDateTime, ISO-8601; "" if not given): a
    #: table deleted and created again under the same name has another one (services/sync.py starts over).
    created: str = ""


@dataclass(frozen=True)
class InitResult:
    """What ``create_table`` did. ``already_set_up``: it found everything in place and wrote nothing."""

    table: str
    arn: str
    created: bool
    billing_mode: str
    pitr: PitrStatus
    header: TableHeader
    header_written: bool
    counter_written: bool

    @property
    def already_set_up(self) -> bool:
        return not (self.created or self.header_written or self.counter_written)


# -- init ------------------------------------------------------------------------------------------------


def create_table(
    target: SyncTableTarget,
    *,
    min_app_version: str | None = None,
    client: Any = None,
    now: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    identity: Callable[[], str] | None = None,
) -> InitResult:
    """Create the sync table (or adopt one with the right keys), wait for it, switch point-in-time
    recovery on, and write its counter and header where they are missing. ``identity`` gives the
    caller's ARN for ``created_by`` (default: STS GetCallerIdentity; "" when that fails).

    Raises ``SyncTableMismatch`` (nothing written) for a table with other keys or a foreign header,
    ``SyncTableTooNew`` for one set up by a newer design, and ``SyncError`` for AWS's refusals.
    """
    version = check_app_version(min_app_version or __version__)
    calls = _Calls(target, client)
    description = calls.describe_or_none()
    created = False
    if description is None:
        created = calls.create()
        description = calls.describe_or_none()
        if description is None:
            raise SyncUnavailable(
                f"DescribeTable: the table {target.table} was created but cannot be found",
                code="TableVanished",
                operation="DescribeTable",
                table=target.table,
            )
    check_key_schema(description, target.table)
    description = calls.wait_active(description, sleep)
    header = calls.read_header()
    pitr = calls.switch_on_pitr(sleep)
    counter_written = calls.put_if_absent({PK: {"S": META}, SK: {"S": COUNTER_SK}, "n": {"N": "0"}})
    header_written = False
    if header is None:
        created_at = (now or _utc_now)().astimezone(UTC).isoformat(timespec="seconds")
        who = identity() if identity is not None else calls.caller_arn()
        candidate = TableHeader(SCHEMA_VERSION, version, created_at, who)
        header_written = calls.put_if_absent(candidate.to_item())
        header = candidate if header_written else calls.read_header()
        if header is None:  # a conditional put failed on an item that is not there: a broken endpoint
            raise SyncUnavailable(
                f"PutItem: the header of {target.table} was neither written nor found",
                code="HeaderVanished",
                operation="PutItem",
                table=target.table,
            )
    logger.info("Sync table %s: created=%s, %s", target.table, created, pitr.describe())
    return InitResult(
        table=target.table,
        arn=str(description.get("TableArn") or ""),
        created=created,
        billing_mode=_billing_mode(description),
        pitr=pitr,
        header=header,
        header_written=header_written,
        counter_written=counter_written,
    )


def check_table(target: SyncTableTarget, *, client: Any = None, app_version: str | None = None) -> TableInfo:
    """The table and its header, read back; a clear error when it is missing (``SyncTableMissing``), is
    not a DRS Desktop sync table (``SyncTableMismatch``), or was set up for a newer design or a newer app
    than ``app_version`` (``SyncTableTooNew``; default: this desktop's version)."""
    calls = _Calls(target, client)
    description = calls.describe()
    check_key_schema(description, target.table)
    header = calls.read_header()
    if header is None:
        raise SyncTableMismatch(
            f"The table {target.table} is not set up as a DRS Desktop sync table (no META/TABLE header): "
            f"run `drs-desktop sync init --table {target.table}` first",
            code="NoHeader",
            operation="GetItem",
            table=target.table,
        )
    mine = check_app_version(app_version or __version__)
    if version_key(mine) < version_key(header.min_app_version):
        raise SyncTableTooNew(
            f"The sync table {target.table} needs DRS Desktop {header.min_app_version} or newer to write; "
            f"this is {mine}",
            code="AppTooOld",
            table=target.table,
        )
    return TableInfo(
        table=target.table,
        arn=str(description.get("TableArn") or ""),
        status=str(description.get("TableStatus") or ""),
        billing_mode=_billing_mode(description),
        header=header,
        created=_creation(description),
    )


def describe(target: SyncTableTarget, *, client: Any = None) -> TableInfo:
    """``check_table`` for this desktop's version (what ``sync status`` shows)."""
    return check_table(target, client=client)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _creation(description: Mapping[str, Any]) -> str:
    created = description.get("CreationDateTime")
    return created.isoformat() if isinstance(created, datetime) else str(created or "")


def _billing_mode(description: Mapping[str, Any]) -> str:
    # A table created PAY_PER_REQUEST always reports BillingModeSummary; an old provisioned one may not.
    return str((description.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED")


class _Calls:
    """The DynamoDB calls of init and check on one client, each failure mapped to a ``SyncError``."""

    def __init__(self, target: SyncTableTarget, client: Any) -> None:
        self.target = target
        self.table = target.table
        self._session: boto3.session.Session | None = None
        if client is None:
            self._session = sync_session(target)
            client = dynamodb_client(target, session=self._session)
        self.client = client

    def _error(self, exc: BaseException, operation: str, service: str = "dynamodb") -> SyncError:
        return map_dynamodb_error(
            exc, operation, table=self.table, profile=self.target.profile, service=service
        )

    def describe(self) -> dict[str, Any]:
        try:
            return dict(self.client.describe_table(TableName=self.table)["Table"])
        except Exception as exc:
            raise self._error(exc, "DescribeTable") from exc

    def describe_or_none(self) -> dict[str, Any] | None:
        try:
            return dict(self.client.describe_table(TableName=self.table)["Table"])
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise self._error(exc, "DescribeTable") from exc
        except Exception as exc:
            raise self._error(exc, "DescribeTable") from exc

    def create(self) -> bool:
        """CreateTable; False when the table appeared meanwhile (another ``init`` ran at the same time)."""
        try:
            self.client.create_table(
                TableName=self.table,
                AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in (PK, SK)],
                KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in KEY_SCHEMA],
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": key, "Value": value} for key, value in TABLE_TAGS],
            )
        except ClientError as exc:
            if error_code(exc) == "ResourceInUseException":
                return False
            raise self._error(exc, "CreateTable") from exc
        except Exception as exc:
            raise self._error(exc, "CreateTable") from exc
        logger.info("Created the sync table %s", self.table)
        return True

    def wait_active(self, description: dict[str, Any], sleep: Callable[[float], None]) -> dict[str, Any]:
        """The table's description once it is ACTIVE (DescribeTable every ACTIVE_POLL_SECONDS)."""
        status = str(description.get("TableStatus") or "")
        if status in ("ACTIVE", "UPDATING"):  # UPDATING tables take reads and writes
            return description
        if status != "CREATING":
            raise SyncUnavailable(
                f"The table {self.table} is {status or 'in an unknown state'}, not usable",
                code=status or "TableStatus",
                operation="DescribeTable",
                table=self.table,
            )
        for _ in range(ACTIVE_POLLS):
            sleep(ACTIVE_POLL_SECONDS)
            description = self.describe()
            if description.get("TableStatus") == "ACTIVE":
                return description
        raise SyncUnavailable(
            f"The table {self.table} did not become ACTIVE in {ACTIVE_POLLS * ACTIVE_POLL_SECONDS:.0f} s",
            code="NotActive",
            operation="DescribeTable",
            table=self.table,
        )

    def read_header(self) -> TableHeader | None:
        """META/TABLE read back (consistent); None when absent."""
        try:
            item = self.client.get_item(
                TableName=self.table, Key={PK: {"S": META}, SK: {"S": HEADER_SK}}, ConsistentRead=True
            ).get("Item")
        except Exception as exc:
            raise self._error(exc, "GetItem") from exc
        if item is None:
            return None
        header = TableHeader.from_item(item, self.table)
        if header.schema > SCHEMA_VERSION:
            raise SyncTableTooNew(
                f"The sync table {self.table} follows table schema {header.schema}, newer than this DRS "
                f"Desktop knows ({SCHEMA_VERSION}): update DRS Desktop",
                code="SchemaTooNew",
                operation="GetItem",
                table=self.table,
            )
        if header.schema < 1:
            raise SyncTableMismatch(
                f"The table {self.table} is not a DRS Desktop sync table: its header says schema "
                f"{header.schema}. Nothing was changed; choose another table",
                code="NotASyncTable",
                operation="GetItem",
                table=self.table,
            )
        return header

    def put_if_absent(self, item: dict[str, Any]) -> bool:
        """PutItem unless an item with that key exists; False (nothing written) when one does."""
        try:
            self.client.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise self._error(exc, "PutItem") from exc
        except Exception as exc:
            raise self._error(exc, "PutItem") from exc
        return True

    def switch_on_pitr(self, sleep: Callable[[float], None]) -> PitrStatus:
        """Point-in-time recovery on, or the honest reason why not. A refusal (an emulator without it, a
        restricted account) is reported, not raised: the table works without it."""
        read_refusal = ""
        try:
            answer = self.client.describe_continuous_backups(TableName=self.table)
            if _pitr_enabled(answer):
                return PitrStatus(enabled=True)
        except ClientError as exc:
            read_refusal = _refusal(self._error(exc, "DescribeContinuousBackups"))
        except Exception as exc:
            raise self._error(exc, "DescribeContinuousBackups") from exc
        delay = PITR_FIRST_DELAY
        for attempt in range(1, PITR_ATTEMPTS + 1):
            try:
                answer = self.client.update_continuous_backups(
                    TableName=self.table,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
            except ClientError as exc:
                if error_code(exc) == "ContinuousBackupsUnavailableException" and attempt < PITR_ATTEMPTS:
                    sleep(delay)  # a new table's backups are still being set up: AWS says try again
                    delay = min(delay * 2, 30.0)
                    continue
                refusal = _refusal(self._error(exc, "UpdateContinuousBackups"))
                if read_refusal:
                    return PitrStatus(enabled=None, reason=f"{read_refusal}; {refusal}")
                return PitrStatus(enabled=False, reason=f"the endpoint refused to switch it on: {refusal}")
            except Exception as exc:
                raise self._error(exc, "UpdateContinuousBackups") from exc
            if _pitr_enabled(answer):
                return PitrStatus(enabled=True, changed=True)
            status = _pitr_status(answer) or "no status"
            return PitrStatus(enabled=False, reason=f"UpdateContinuousBackups answered {status}")
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or continues

    def caller_arn(self) -> str:
        """The caller's IAM identity ARN (STS GetCallerIdentity), "" when it cannot be had."""
        try:
            session = self._session or sync_session(self.target)
            arn = sts_client(session, self.target.aws).get_caller_identity().get("Arn")
        except Exception as exc:
            logger.info("created_by left empty: %s", self._error(exc, "GetCallerIdentity", "sts"))
            return ""
        return str(arn or "")


def _pitr_status(answer: Mapping[str, Any]) -> str:
    description = answer.get("ContinuousBackupsDescription") or {}
    return str(
        (description.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus") or ""
    )


def _pitr_enabled(answer: Mapping[str, Any]) -> bool:
    return _pitr_status(answer) == "ENABLED"


def _refusal(error: SyncError) -> str:
    return str(error)
