"""What can go wrong when the application talks to DRS, as the engine and the operator need to know it.

The gateway (``aws.drs``) turns every botocore exception into one of these, so nothing above the ``aws``
layer ever sees a botocore type. Two questions matter to the engine, and every error answers both:

- ``definite``: is it certain that the call changed nothing? True for a refusal (4xx, 402, 429, a
  client-side validation failure, missing credentials). False only for a *mutating* call whose outcome is
  unknown (5xx, a dropped connection, a read timeout): StartRecovery has no idempotency token, so the job
  may exist and the engine must reconcile (list recent jobs, match tags) before it launches again.
- ``transient``: would the same call likely work later? True for throttling and service/network trouble;
  the engine's backoff takes over, honouring ``retry_after`` (seconds, from DRS's Retry-After) if set.

Stdlib only; ``str(error)`` is one line fit to show an operator.
"""

from __future__ import annotations

from drs_desktop.domain.errors import DrsDesktopError


class DrsError(DrsDesktopError):
    """A DRS (or STS) call failed. ``code`` is the AWS error code (ConflictException, ...) or a local one
    (ConnectionError, ReadTimeout, ClientValidation, ...); ``operation`` the API operation name."""

    default_definite = True
    default_transient = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        operation: str = "",
        definite: bool | None = None,
        transient: bool | None = None,
        retry_after: float | None = None,
        status: int | None = None,
        request_id: str = "",
        resource_id: str = "",
        quota_code: str = "",
        fields: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation
        self.definite = self.default_definite if definite is None else definite
        self.transient = self.default_transient if transient is None else transient
        self.retry_after = retry_after
        self.status = status
        self.request_id = request_id
        self.resource_id = resource_id
        self.quota_code = quota_code
        self.fields = fields  # ValidationException's fieldList as (name, message) pairs

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        what = f" ({self.code})" if self.code and self.code not in self.message else ""
        return f"{where}{self.message}{what}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, operation={self.operation!r}, "
            f"definite={self.definite}, transient={self.transient}, retry_after={self.retry_after!r})"
        )


class DrsConflict(DrsError):
    """409: a server is already in an active job (or the resource is busy). Nothing was launched."""


class DrsQuotaExceeded(DrsError):
    """402: a DRS quota (servers per job, across active jobs, concurrent jobs...) refused the call.
    ``quota_code`` names it (L-...). Nothing was launched."""


class DrsRejected(DrsError):
    """400 ValidationException, or a request the client refused to send. Nothing was launched.

    ``fields`` lists DRS's fieldList as ``(name, message)`` pairs."""


class DrsNotFound(DrsError):
    """404: the source server, job, launch configuration or ARN does not exist (``resource_id``)."""


class DrsAccessDenied(DrsError):
    """403: the identity lacks a permission. Retrying will not help until the policy changes."""


class DrsAuthError(DrsError):
    """No usable credentials: a profile that does not exist, an expired SSO session, keys DRS refused.
    Nothing was sent (or it was refused); the operator must sign in again."""


class DrsUninitialized(DrsError):
    """DRS is not initialized in this account and region (InitializeService has never run)."""


class DrsThrottled(DrsError):
    """429: DRS refused the call for its rate. Definite; ``retry_after`` is DRS's Retry-After (seconds)."""

    default_transient = True


class DrsUnavailable(DrsError):
    """A read call failed for a 5xx or a network problem after botocore's own retries. Nothing changed
    (reads change nothing); try again later, with backoff."""

    default_transient = True


class DrsOutcomeUnknown(DrsError):
    """A mutating call (StartRecovery, TerminateRecoveryInstances) may or may not have taken effect: a
    5xx, a dropped connection or a read timeout. Never resend blindly: reconcile first."""

    default_definite = False
    default_transient = True
