"""Turn botocore exceptions from calls on the sync table into the domain's ``SyncError`` family.

Every message is one line that says what to do: an access denied names the IAM action
(``dynamodb:CreateTable``) and the table, missing credentials name the profile. An emulator may answer a
refusal in another protocol's body (moto's IAM check returns XML to a JSON client): such a message is left
out rather than shown as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from drs_desktop.aws.errors import AUTH_CODES, CLIENT_SIDE_AUTH, THROTTLING_CODES
from drs_desktop.domain.drs.errors import DrsAuthError
from drs_desktop.domain.sync_errors import (
    SyncAccessDenied,
    SyncAuthError,
    SyncError,
    SyncTableMissing,
    SyncUnavailable,
)

_NO_CREDENTIALS = CLIENT_SIDE_AUTH
_ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
#: The longest AWS message quoted in an error line.
_MAX_QUOTED = 300


def map_dynamodb_error(
    exc: BaseException, operation: str, *, table: str, profile: str | None = None, service: str = "dynamodb"
) -> SyncError:
    """The ``SyncError`` for ``exc`` raised by ``operation`` on ``table``; ``profile`` for the credentials
    message (None: the default credential chain)."""
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, DrsAuthError):  # aws.session: a profile that does not exist, a role's source
        return SyncAuthError(str(exc), code=exc.code, operation=operation, table=table)
    if isinstance(exc, ClientError):
        return _map_client_error(exc, operation, table=table, profile=profile, service=service)
    if isinstance(exc, _NO_CREDENTIALS):
        whose = f"the AWS profile {profile!r}" if profile else "the default AWS credential chain"
        return SyncAuthError(
            f"No usable AWS credentials from {whose} for the sync table {table}: {_short(str(exc))}",
            code=type(exc).__name__,
            operation=operation,
            table=table,
        )
    if isinstance(exc, (BotoCoreError, OSError)):
        return SyncUnavailable(
            f"{operation}: DynamoDB could not be reached for the sync table {table}: {_short(str(exc))}",
            code=type(exc).__name__,
            operation=operation,
            table=table,
        )
    what = _short(str(exc)) or type(exc).__name__
    return SyncUnavailable(
        f"{operation}: unexpected failure on the sync table {table}: {what}",
        code=type(exc).__name__,
        operation=operation,
        table=table,
    )


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ("" for anything else)."""
    if isinstance(exc, ClientError):
        return str((exc.response or {}).get("Error", {}).get("Code") or "")
    return ""


def _map_client_error(
    exc: ClientError, operation: str, *, table: str, profile: str | None, service: str
) -> SyncError:
    response: Mapping[str, Any] = exc.response or {}
    error = response.get("Error", {}) or {}
    code = str(error.get("Code") or "")
    status = (response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode")
    quoted = _quotable(str(error.get("Message") or ""))
    tail = f" ({quoted})" if quoted else ""
    common: dict[str, Any] = {"code": code, "operation": operation, "table": table}
    if code in _ACCESS_DENIED_CODES or (status == 403 and code not in AUTH_CODES):
        return SyncAccessDenied(
            f"Access denied: the identity lacks {service}:{operation} on the sync table {table}{tail}",
            **common,
        )
    if code in AUTH_CODES:
        whose = f"profile {profile!r}" if profile else "the default credential chain"
        return SyncAuthError(f"AWS refused the credentials of {whose}{tail}", **common)
    if code == "ResourceNotFoundException":
        return SyncTableMissing(f"There is no DynamoDB table {table} in that account and region", **common)
    if code in THROTTLING_CODES or code in {"ProvisionedThroughputExceededException", "RequestLimitExceeded"}:
        return SyncUnavailable(f"{operation}: DynamoDB throttled the sync table {table}{tail}", **common)
    if not isinstance(status, int) or status >= 500:
        return SyncUnavailable(f"{operation}: DynamoDB failed on the sync table {table}{tail}", **common)
    return SyncError(f"{operation} on the sync table {table} was refused: {code}{tail}", **common)


def _quotable(message: str) -> str:
    """AWS's message when it is plain text, on one line and not too long; "" for markup."""
    text = " ".join(message.split())
    if not text or text.startswith("<"):
        return ""
    return _short(text)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 3] + "..."
