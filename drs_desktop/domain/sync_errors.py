"""What can go wrong with the team's sync table (docs/sync.md), as an operator needs to read it.

The ``aws`` layer turns every botocore exception about the table into one of these
(``aws.dynamodb_errors``), so nothing above it sees a botocore type, the same rule as ``DrsError`` for
DRS. ``str(error)`` is one line fit for a terminal or a dialog: it names the table and, where the
operator can fix something, what (the IAM action missing, the profile without credentials).

Stdlib only.
"""

from __future__ import annotations

from drs_desktop.domain.errors import DrsDesktopError


class SyncError(DrsDesktopError):
    """A call on the sync table failed. ``code`` is the AWS error code or a local one; ``operation`` the
    DynamoDB (or STS) operation; ``table`` the table's name."""

    transient = False

    def __init__(self, message: str, *, code: str = "", operation: str = "", table: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.operation = operation
        self.table = table

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, operation={self.operation!r}, table={self.table!r})"
        )


class SyncTargetError(SyncError):
    """The table's name or endpoint cannot be used as given (a usage error: nothing was sent)."""


class SyncAuthError(SyncError):
    """No usable credentials for the table: a profile that does not exist or holds none, an expired SSO
    session, keys AWS refused."""


class SyncAccessDenied(SyncError):
    """The identity lacks an IAM action on the table; ``operation`` names it. Retrying will not help until
    the policy changes (``drs-desktop sync init`` prints the policy needed)."""


class SyncTableMissing(SyncError):
    """The table does not exist in that account and region."""


class SyncTableMismatch(SyncError):
    """The table exists but is not a DRS Desktop sync table (another key schema, or a table header that is
    not ours). Nothing was written to it."""


class SyncTableTooNew(SyncError):
    """The table was set up by a newer DRS Desktop (a newer table schema, or a ``min_app_version`` above
    this one): this desktop must not write to it."""


class SyncUnavailable(SyncError):
    """DynamoDB could not be reached or failed (network, 5xx, throttling after botocore's retries).
    Nothing is known to have changed; try again later."""

    transient = True


class LeaseHeld(SyncError):
    """Another desktop holds the execution's lease (docs/sync.md, "Leases"): a ``take`` refused, or a
    ``take_over`` that lost (the holder beat again, or another desktop took it over first). ``holder`` and
    ``heartbeat`` are what the table says now; ``holder`` None means the lease is free now (released
    meanwhile): a plain ``take`` may succeed."""

    def __init__(
        self,
        message: str,
        *,
        execution_id: str,
        holder: str | None,
        heartbeat: int | None,
        operation: str = "",
        table: str = "",
    ) -> None:
        super().__init__(message, code="LeaseHeld", operation=operation, table=table)
        self.execution_id = execution_id
        self.holder = holder
        self.heartbeat = heartbeat


class DrivenElsewhere(SyncError):
    """The team's table shows that another desktop drove this execution further than this desktop's
    journal (it took the run over, or a copy of this database drove it): driving it from here could
    launch again what that desktop launched. The lease taken for the check is given back."""


class LeaseLost(SyncError):
    """This desktop's lease is no longer its own: a beat's (or a release's) condition ``holder = me``
    failed. ``holder`` names the desktop that took it over, None when the lease item is gone. Never raised
    for a network error or a throttle (those say nothing about the lease): only the table's refusal of
    the condition means the lease was lost. The driver must stop driving."""

    def __init__(
        self,
        message: str,
        *,
        execution_id: str,
        holder: str | None,
        operation: str = "",
        table: str = "",
    ) -> None:
        super().__init__(message, code="LeaseLost", operation=operation, table=table)
        self.execution_id = execution_id
        self.holder = holder


class SyncResolutionError(SyncError):
    """A conflict resolution that cannot be done as asked (no such open conflict, a copy of a deletion)."""
