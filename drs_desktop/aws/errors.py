"""Turn botocore exceptions into the domain's ``DrsError`` family (domain/drs/errors.py).

The one rule that matters most: for a *mutating* call (StartRecovery, TerminateRecoveryInstances) only a
refusal DRS answered (or a request never sent) is ``definite``. A 5xx, a dropped connection, a read
timeout or an unreadable answer leaves the outcome unknown (``DrsOutcomeUnknown``): the job may exist.
The same failures on a read call are ``DrsUnavailable`` (transient, nothing changed).

The other services the app calls (EC2, SSM, Lambda) go through ``map_service_error``: the same rules,
their own codes sorted into not found and rejected, and their own name where DRS's wording says DRS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    NoAuthTokenError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from drs_desktop.domain.drs.errors import (
    DrsAccessDenied,
    DrsAuthError,
    DrsConflict,
    DrsError,
    DrsNotFound,
    DrsOutcomeUnknown,
    DrsQuotaExceeded,
    DrsRejected,
    DrsThrottled,
    DrsUnavailable,
    DrsUninitialized,
)

logger = logging.getLogger(__name__)

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
    }
)
#: Codes saying the credentials themselves are bad or expired (DRS and STS spell them differently).
AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "AuthFailure",
    }
)
#: Credentials that fail before any request leaves (none, partial, an expired SSO token, no profile).
CLIENT_SIDE_AUTH = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    NoAuthTokenError,
    TokenRetrievalError,
    SSOError,
    SSOTokenLoadError,
    UnauthorizedSSOTokenError,
    ProfileNotFound,
)
#: The SSO session expired or was never started: ``aws sso login`` fixes these.
_SSO_ERRORS = (SSOError, SSOTokenLoadError, UnauthorizedSSOTokenError, TokenRetrievalError)


def retry_after_of(response: Mapping[str, Any]) -> float | None:
    """DRS's Retry-After in seconds: botocore puts the modeled header at the top of the error response
    (a str for Throttling, an int for InternalServer); the raw header is the fallback."""
    value = response.get("retryAfterSeconds")
    if value is None:
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
        value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None  # an HTTP date or garbage: let the engine's own backoff decide
    return seconds if seconds >= 0 else None


def map_error(exc: BaseException, operation: str, *, mutating: bool, auth_hint: str = "") -> DrsError:
    """The ``DrsError`` for ``exc`` raised by ``operation``; ``mutating`` for calls that change DRS."""
    if isinstance(exc, DrsError):
        return exc
    if isinstance(exc, ClientError):
        return _map_client_error(exc, operation, mutating=mutating, auth_hint=auth_hint)
    if isinstance(exc, ParamValidationError):
        return DrsRejected(
            f"The request was not sent: {exc}", code="ClientValidation", operation=operation, transient=False
        )
    if isinstance(exc, CLIENT_SIDE_AUTH):
        message = f"No usable AWS credentials: {exc}"
        if auth_hint and isinstance(exc, _SSO_ERRORS):
            message += f". {auth_hint}"
        return DrsAuthError(message, code=type(exc).__name__, operation=operation)
    if isinstance(exc, NoRegionError):
        return DrsError("No AWS region is configured", code="NoRegion", operation=operation)
    # Everything else happened on the wire or while reading the answer: connection refused or dropped,
    # timeouts, a garbled response, a pagination loop.
    code = type(exc).__name__
    if mutating:
        return DrsOutcomeUnknown(
            f"The call may or may not have reached DRS ({_short(exc)}); reconcile before retrying",
            code=code,
            operation=operation,
        )
    if isinstance(exc, (BotoCoreError, OSError)):
        return DrsUnavailable(f"DRS could not be reached: {_short(exc)}", code=code, operation=operation)
    return DrsUnavailable(f"Unexpected failure talking to DRS: {_short(exc)}", code=code, operation=operation)


def map_service_error(
    exc: BaseException,
    service: str,
    operation: str,
    *,
    mutating: bool,
    unreadable: type[Exception],
    reclassify: Callable[[str], type[DrsError] | None],
) -> DrsError:
    """``map_error`` for ``service`` (EC2, SSM, Lambda): its answer that a gateway could not read
    (``unreadable``, raised by its parsers) and its error codes (``reclassify``: the class a code means,
    None to keep ``map_error``'s), with the service named in the message."""
    if isinstance(exc, unreadable):
        # A mutating call answered with something unreadable: it was carried out, what it made is
        # unknown, so the caller finds it again the way it finds a lost answer's.
        error_cls = DrsOutcomeUnknown if mutating else DrsUnavailable
        return error_cls(
            f"{service}'s answer could not be read: {exc}", code="MalformedResponse", operation=operation
        )
    base = map_error(exc, operation, mutating=mutating)
    cls = reclassify(base.code) or type(base)
    return cls(
        base.message.replace("DRS", service),
        code=base.code,
        operation=operation,
        definite=base.definite,
        transient=base.transient if cls is type(base) else None,
        retry_after=base.retry_after,
        status=base.status,
        request_id=base.request_id,
    )


def log_failure(
    log: logging.Logger, service: str, operation: str, error: DrsError, *, mutating: bool
) -> None:
    """One line for a failed call: a warning when it may have changed something or will not pass by
    itself, else information (a throttled or unreachable read is retried)."""
    level = logging.WARNING if (mutating or not error.transient) else logging.INFO
    log.log(
        level,
        "%s %s failed: %s (%s)",
        service,
        operation,
        error.code or type(error).__name__,
        type(error).__name__,
    )


def _map_client_error(exc: ClientError, operation: str, *, mutating: bool, auth_hint: str) -> DrsError:
    response: Mapping[str, Any] = exc.response or {}
    error = response.get("Error", {}) or {}
    meta = response.get("ResponseMetadata", {}) or {}
    code = str(error.get("Code") or "")
    message = str(error.get("Message") or code or "DRS refused the call")
    status = meta.get("HTTPStatusCode")
    status = int(status) if isinstance(status, int) else None
    common: dict[str, Any] = {
        "code": code,
        "operation": operation,
        "status": status,
        "request_id": str(meta.get("RequestId") or ""),
        "retry_after": retry_after_of(response),
        "resource_id": str(response.get("resourceId") or ""),
        "quota_code": str(response.get("quotaCode") or ""),
    }
    if code in THROTTLING_CODES or status == 429:
        return DrsThrottled(message, **common)
    if code == "ConflictException" or status == 409:
        return DrsConflict(message, **common)
    if code == "ServiceQuotaExceededException" or status == 402:
        return DrsQuotaExceeded(message, **common)
    if code == "ValidationException":
        return DrsRejected(message, fields=_fields(response), **common)
    if code == "ResourceNotFoundException" or status == 404:
        return DrsNotFound(message, **common)
    if code == "UninitializedAccountException":
        return DrsUninitialized(
            "DRS is not initialized in this account and region: initialize it in the DRS console first",
            **common,
        )
    if code in AUTH_CODES:
        text = f"AWS refused the credentials: {message}"
        return DrsAuthError(f"{text}. {auth_hint}" if auth_hint else text, **common)
    if code == "AccessDeniedException" or code == "AccessDenied" or status == 403:
        return DrsAccessDenied(message, **common)
    if code == "InternalServerException" or status is None or status >= 500 or status == 408:
        if mutating:
            return DrsOutcomeUnknown(
                f"DRS failed while handling the call ({message}); it may or may not have taken effect",
                **common,
            )
        return DrsUnavailable(message, **common)
    # Any other 4xx: DRS answered and refused.
    return DrsError(message, **common)


def _fields(response: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    fields = response.get("fieldList") or []
    out: list[tuple[str, str]] = []
    for item in fields:
        if isinstance(item, Mapping):
            out.append((str(item.get("name") or ""), str(item.get("message") or "")))
    return tuple(out)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
