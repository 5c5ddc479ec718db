"""The sync table's design in code (docs/sync.md): its keys and item names, the header item, the IAM
actions an operator needs, and where the table is (``SyncTableTarget``) with a DynamoDB client for it.

Everything that reads or writes the table keys what it stores by the names here, never by literals of its
own. The table may live in another account, region or profile than DRS: its ``SyncTableTarget`` carries
its own credentials (``aws.session.AwsTarget``: a profile, a role or typed keys).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3.session
import botocore.session
from botocore.exceptions import ProfileNotFound

from drs_desktop.aws.assume_role import RoleToAssume
from drs_desktop.aws.dynamodb_errors import map_dynamodb_error
from drs_desktop.aws.session import (
    AwsTarget,
    EndpointUrlError,
    check_endpoint_url,
    client_config,
    is_loopback_url,
    make_session,
    profile_exists,
)
from drs_desktop.domain.connection import AccessKeyPair
from drs_desktop.domain.sync_errors import SyncAuthError, SyncTableMismatch, SyncTargetError

SCHEMA_VERSION = 1
PK = "pk"
SK = "sk"
META = "META"
HEADER_SK = "TABLE"
COUNTER_SK = "SEQ"
#: A lease item: ``LEASE#<execution id>`` / ``LEASE`` (docs/sync.md, "Leases").
LEASE_PK_PREFIX = "LEASE#"
LEASE_SK = "LEASE"
KEY_SCHEMA: tuple[tuple[str, str], ...] = ((PK, "HASH"), (SK, "RANGE"))
#: A tag on the table created here (and by the template), so that a console listing says whose it is.
TABLE_TAGS: tuple[tuple[str, str], ...] = (("application", "drs-desktop"),)

#: What every operator's desktop calls on the table (docs/sync.md, "Permissions"). There is no IAM action
#: for TransactWriteItems: AWS authorizes each of its parts by the action underneath (Put by PutItem,
#: Update by UpdateItem, ConditionCheck by ConditionCheckItem), all listed here.
RUNTIME_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
#: What only whoever runs ``sync init`` needs, once, and ``sync clean`` (maintenance: deleting body parts
#: nothing names). ``BatchWriteItem`` is here, not in the operators' statement: IAM authorizes a
#: BatchWriteItem's DeleteRequests by ``BatchWriteItem`` alone, so an operator granted it could delete
#: items whatever the policy says of ``DeleteItem``; nothing an operator's desktop does uses it.
INIT_ACTIONS: tuple[str, ...] = (
    "dynamodb:CreateTable",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:TagResource",
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
)
RUNTIME_SID = "DrsDesktopSync"
INIT_SID = "DrsDesktopSyncInit"

#: Attempts (the first included) of every call on the table; botocore's standard mode backs off between
#: them (throttling, 5xx, dropped connections). Every write here is conditional, so a resent one that
#: had landed fails its condition instead of writing twice.
MAX_ATTEMPTS = 5
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_APP_VERSION = re.compile(r"\d+(\.\d+){0,3}([.+-]?[A-Za-z0-9.+-]*)")

# -- where the table is ----------------------------------------------------------------------------------


def check_table_name(name: str) -> str:
    """``name`` if DynamoDB accepts it as a table name (3-255 of ``A-Z a-z 0-9 _ . -``)."""
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise SyncTargetError(
            f"{name!r} is not a DynamoDB table name: 3 to 255 letters, digits, '_', '.' or '-'"
        )
    return name


def check_table_endpoint(url: str) -> str:
    """``url`` if it may carry the team's data: what every endpoint must be (``check_endpoint_url``: no
    user info, query or fragment), and https unless the host is this machine (an emulator): plans and
    journals must not cross a network in clear text."""
    try:
        check_endpoint_url(url)
    except EndpointUrlError as exc:
        raise SyncTargetError(str(exc), code="EndpointUrl") from None
    if urlsplit(url).scheme.lower() == "http" and not is_loopback_url(url):
        raise SyncTargetError(
            f"endpoint {url} is plain http to another machine: the team's plans and journals would cross "
            "the network unencrypted; use https:// (http:// only for an emulator on this machine)",
            code="EndpointUrl",
        )
    return url


def check_app_version(version: str) -> str:
    """``version`` if it reads as a DRS Desktop version (``1.2.3``, ``0.4.0rc1``)."""
    if not isinstance(version, str) or len(version) > 64 or not _APP_VERSION.fullmatch(version):
        raise SyncTargetError(f"{version!r} is not a DRS Desktop version (e.g. 0.1.0)")
    return version


@dataclass(frozen=True)
class SyncTableTarget:
    """The sync table: its name, region, and whose credentials reach it (a profile, a role, typed keys,
    or the default chain when all are None). ``endpoint_url`` points somewhere other than AWS's
    DynamoDB (a VPC endpoint, an emulator on loopback). ``aws`` is the ``AwsTarget`` sessions are made
    from: one per target, so an assumed role is assumed once for every client built from it."""

    table: str
    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    credentials: AccessKeyPair | None = None
    role: RoleToAssume | None = None
    aws: AwsTarget = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        check_table_name(self.table)
        if not self.region or not self.region.strip():
            raise SyncTargetError("a region is required: a DynamoDB table lives in one region")
        if self.endpoint_url is not None:
            check_table_endpoint(self.endpoint_url)
        aws = AwsTarget(
            profile=self.profile,
            region=self.region,
            endpoint_url=self.endpoint_url,
            credentials=self.credentials,
            role=self.role,
        )
        object.__setattr__(self, "aws", aws)

    def describe(self) -> str:
        """A log- and UI-safe one-liner (never a secret). On loopback without a profile the requests are
        signed with placeholder keys (an emulator checks none), which ``AwsTarget`` calls the simulator's."""
        where = self.aws.describe().replace("(simulator keys)", "(placeholder keys: a local emulator)")
        return f"table {self.table} in {where}"


def configured_region(profile: str | None) -> str | None:
    """The region the AWS config (or AWS_REGION / AWS_DEFAULT_REGION) gives ``profile``, if any."""
    try:
        region = botocore.session.Session(profile=profile).get_config_variable("region")
    except ProfileNotFound:
        return None
    return str(region) if region else None


def sync_session(target: SyncTableTarget) -> boto3.session.Session:
    """A new boto3 session for the table (``aws.session.make_session``), in the thread that uses it.

    Unlike a DRS target on loopback, where a profile missing from the AWS files falls back to the
    simulator's dummy keys (the demo), a profile named for the table must exist wherever the table is:
    its data is the team's. Raises ``SyncAuthError`` naming the profile.
    """
    try:
        if target.profile and target.credentials is None and target.role is None:
            if not profile_exists(target.profile):
                raise SyncAuthError(
                    f"The AWS profile {target.profile!r} for the sync table {target.table} does not exist "
                    "in the AWS config files",
                    code="ProfileNotFound",
                    table=target.table,
                )
        return make_session(target.aws)
    except Exception as exc:
        raise map_dynamodb_error(exc, "CreateClient", table=target.table, profile=target.profile) from exc


def dynamodb_client(
    target: SyncTableTarget,
    *,
    session: boto3.session.Session | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    timeout: float | None = None,
) -> Any:
    """A DynamoDB client for the table; build it in the thread that uses it (sessions are not shared).
    ``timeout`` (seconds) bounds connecting and reading, for a caller that must retry on its own schedule
    (the lease keeper: a beat must not hang longer than the interval). Raises ``SyncError``
    (``SyncAuthError`` for a profile that does not exist)."""
    session = session or sync_session(target)
    try:
        config = client_config(retries=True, max_attempts=max_attempts)
        if timeout is not None:
            config = client_config(
                retries=True, max_attempts=max_attempts, connect_timeout=timeout, read_timeout=timeout
            )
        return session.client(
            "dynamodb", region_name=target.region, endpoint_url=target.endpoint_url, config=config
        )
    except Exception as exc:
        raise map_dynamodb_error(exc, "CreateClient", table=target.table, profile=target.profile) from exc


# -- the table header ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableHeader:
    """META/TABLE: which design the table follows and the oldest DRS Desktop allowed to write to it.
    ``created_by`` is the creator's IAM identity ARN, "" when STS could not say."""

    schema: int
    min_app_version: str
    created_at: str
    created_by: str = ""

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            PK: {"S": META},
            SK: {"S": HEADER_SK},
            "schema": {"N": str(self.schema)},
            "min_app_version": {"S": self.min_app_version},
            "created_at": {"S": self.created_at},
        }
        if self.created_by:
            item["created_by"] = {"S": self.created_by}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any], table: str) -> TableHeader:
        """The header in ``item``; SyncTableMismatch for an item that is not a DRS Desktop header."""
        try:
            schema = int(item["schema"]["N"])
            min_app_version = str(item["min_app_version"]["S"])
        except (KeyError, TypeError, ValueError):
            raise SyncTableMismatch(
                f"The table {table} is not a DRS Desktop sync table: its META/TABLE item has no numeric "
                "'schema' and text 'min_app_version'. Nothing was changed; choose another table",
                code="NotASyncTable",
                table=table,
            ) from None
        created_at = item.get("created_at", {}).get("S", "")
        created_by = item.get("created_by", {}).get("S", "")
        return cls(schema, min_app_version, str(created_at), str(created_by))


# -- the policy ------------------------------------------------------------------------------------------


def least_privilege_policy(table_arn_or_pattern: str, *, include_init: bool = True) -> dict[str, Any]:
    """The IAM policy document an operator needs on the table (docs/sync.md, "Permissions"): statement
    ``DrsDesktopSync`` for every desktop; ``DrsDesktopSyncInit`` (``include_init``) only for whoever runs
    ``sync init``. The resource is the table's ARN or a pattern (``arn:aws:dynamodb:*:*:table/NAME``)."""
    if not table_arn_or_pattern.startswith("arn:"):
        raise ValueError(f"not an ARN: {table_arn_or_pattern!r}")
    statements = [{"Sid": RUNTIME_SID, "Effect": "Allow", "Action": list(RUNTIME_ACTIONS)}]
    if include_init:
        statements.append({"Sid": INIT_SID, "Effect": "Allow", "Action": list(INIT_ACTIONS)})
    for statement in statements:
        statement["Resource"] = table_arn_or_pattern
    return {"Version": "2012-10-17", "Statement": statements}


# -- keys and versions ----------------------------------------------------------------------------------


def check_key_schema(description: Mapping[str, Any], table: str) -> None:
    """SyncTableMismatch unless the table's keys are exactly ``pk`` (S, HASH) and ``sk`` (S, RANGE)."""
    keys = tuple(
        (str(k.get("AttributeName")), str(k.get("KeyType"))) for k in description.get("KeySchema", [])
    )
    types = {
        str(a.get("AttributeName")): str(a.get("AttributeType"))
        for a in description.get("AttributeDefinitions", [])
    }
    if keys == KEY_SCHEMA and types.get(PK) == "S" and types.get(SK) == "S":
        return
    shown = ", ".join(f"{name} ({types.get(name, '?')}, {kind})" for name, kind in keys) or "unknown"
    raise SyncTableMismatch(
        f"The table {table} is not a DRS Desktop sync table: its key is {shown}, a sync table's is "
        f"pk (S, HASH) + sk (S, RANGE). Nothing was changed; choose another table name",
        code="KeySchema",
        operation="DescribeTable",
        table=table,
    )


def version_key(version: str) -> tuple[int, ...]:
    """A version's leading numbers, for ordering (``0.10.0`` > ``0.9.2``; a suffix is ignored)."""
    numbers = re.match(r"\d+(\.\d+)*", version)
    return tuple(int(part) for part in numbers.group(0).split(".")) if numbers else ()
