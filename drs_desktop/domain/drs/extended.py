"""Extended source servers: a staging account's servers, recovered from the recovery account.

DRS replicates at most 300 servers per account, so a large estate replicates into several staging accounts
and recovers in one recovery account. ``ListExtensibleSourceServers`` names a staging account's servers
that can be extended (hostname, ARN, tags: no replication state, which only the staging account can read);
``CreateExtendedSourceServer`` makes one a source server of the recovery account, whose ``stagingArea``
names the staging account and server. These values are what the application keeps of those answers and of
an "extend these servers" request, one outcome per server, so that a partial failure says which servers
failed and why and keeps the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from drs_desktop.domain.inventory import Inventory, SourceServer, server_id_of_arn

#: A staging account ID as ListExtensibleSourceServers takes it: 12 digits.
ACCOUNT_ID = re.compile(r"^[0-9]{12}\Z", re.ASCII)


def account_problem(text: str) -> str:
    """Why ``text`` is not an AWS account ID, or "" when it is one."""
    if not text:
        return "type the staging account's 12-digit ID"
    if not ACCOUNT_ID.match(text):
        return f"{text[:40]!r} is not an AWS account ID (12 digits)"
    return ""


@dataclass(frozen=True, kw_only=True)
class ExtensibleServer:
    """One item of ListExtensibleSourceServers: a staging account's server not yet extended here."""

    arn: str
    hostname: str = ""
    staging_account_id: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def source_server_id(self) -> str:
        """Its ``s-...`` in the staging account (from the ARN)."""
        return server_id_of_arn(self.arn)


@dataclass(frozen=True, kw_only=True)
class ExtensibleListing:
    """What the recovery account can extend from one staging account, and what it already has.

    ``extensible``: ListExtensibleSourceServers' answer (DRS leaves out servers already extended here).
    ``extended``: the recovery account's source servers extended from that staging account (from
    DescribeSourceServers filtered by ``stagingAccountIDs``), so the operator sees them as done.
    """

    staging_account_id: str
    extensible: tuple[ExtensibleServer, ...] = ()
    extended: tuple[SourceServer, ...] = ()


class ExtendStatus(StrEnum):
    """How one server of an extend request ended."""

    EXTENDED = "EXTENDED"  # CreateExtendedSourceServer made it a source server of the recovery account
    ALREADY_EXTENDED = "ALREADY_EXTENDED"  # it was one before the request: nothing sent for it
    FAILED = "FAILED"  # DRS refused (or the ID is not a server of the staging account): nothing made
    UNKNOWN = "UNKNOWN"  # the call's answer was lost and the refresh could not tell: look again


@dataclass(frozen=True, kw_only=True)
class ExtendOutcome:
    """One server's result: its staging ID and ARN, and the recovery account's server when there is one."""

    staging_server_id: str
    status: ExtendStatus
    arn: str = ""
    hostname: str = ""
    server: SourceServer | None = None
    message: str = ""

    @property
    def extended_server_id(self) -> str:
        return self.server.source_server_id if self.server is not None else ""

    def describe(self) -> str:
        """One line for a person: what happened to this server."""
        name = f"{self.hostname} ({self.staging_server_id})" if self.hostname else self.staging_server_id
        if self.status is ExtendStatus.EXTENDED:
            return f"{name}: extended as {self.extended_server_id}"
        if self.status is ExtendStatus.ALREADY_EXTENDED:
            return f"{name}: already extended as {self.extended_server_id}"
        if self.status is ExtendStatus.UNKNOWN:
            return f"{name}: outcome unknown ({self.message}); refresh the servers to see whether it exists"
        return f"{name}: failed: {self.message}"


@dataclass(frozen=True, kw_only=True)
class ExtendReport:
    """Every server's outcome, and the recovery account's inventory refreshed after the calls.

    ``inventory`` is None when the refresh failed (``refresh_error`` says why): the servers extended are
    extended all the same, the Servers pane shows them at its next refresh.
    """

    staging_account_id: str
    outcomes: tuple[ExtendOutcome, ...] = ()
    inventory: Inventory | None = None
    refresh_error: str = ""

    def with_status(self, status: ExtendStatus) -> tuple[ExtendOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status is status)

    @property
    def ok(self) -> bool:
        """True when no server failed and none is unknown (already extended is fine)."""
        return all(o.status in (ExtendStatus.EXTENDED, ExtendStatus.ALREADY_EXTENDED) for o in self.outcomes)

    def summary(self) -> str:
        """ "2 extended, 1 already extended, 1 failed (from staging account 222222222222)"."""
        parts = []
        for status, label in (
            (ExtendStatus.EXTENDED, "extended"),
            (ExtendStatus.ALREADY_EXTENDED, "already extended"),
            (ExtendStatus.FAILED, "failed"),
            (ExtendStatus.UNKNOWN, "unknown"),
        ):
            count = len(self.with_status(status))
            if count:
                parts.append(f"{count} {label}")
        text = ", ".join(parts) or "nothing to extend"
        return f"{text} (from staging account {self.staging_account_id})"
