"""Source servers as DRS reports them, reduced to what planning and preflight need."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class SourceServer:
    """One DRS source server. ``replication_state`` is DRS's dataReplicationState (CONTINUOUS, ...)."""

    source_server_id: str
    hostname: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    replication_state: str = ""
    lag_seconds: int | None = None
    os: str = ""
    last_launch_status: str = ""
    last_launched_at: datetime | None = None
    arn: str = ""
    #: DRS's ``stagingArea`` of an extended source server (replicated in a staging account, recovered in
    #: this one): the staging account, its server's ARN, and EXTENDED or EXTENSION_ERROR (with DRS's
    #: message). All "" for a server that replicates into this account itself.
    staging_account_id: str = ""
    staging_source_server_arn: str = ""
    extension_status: str = ""
    extension_error: str = ""
    #: DRS's ``sourceProperties.networkInterfaces[].ips``, the primary interface's first (launch settings
    #: map a server's IP to a subnet).
    ips: tuple[str, ...] = ()
    #: An AWS-hosted server's EC2 instance (DRS's ``identificationHints.awsInstanceID``); "" on premises.
    aws_instance_id: str = ""
    #: Where that instance runs (DRS's ``sourceCloudProperties``: originAccountID, originRegion), as DRS
    #: wrote them; "" when DRS gave none. Read live only: the inventory cache does not keep them.
    origin_account_id: str = ""
    origin_region: str = ""

    @property
    def is_extended(self) -> bool:
        """An extended source server: a plan names it by this (recovery-account) ID like any other."""
        return bool(self.staging_account_id)

    @property
    def staging_server_id(self) -> str:
        """The ``s-...`` of the server in the staging account ("" when not extended)."""
        return server_id_of_arn(self.staging_source_server_arn)

    def extended_from(self) -> str:
        """ "extended from staging account 222222222222 (server s-...)", or "" when not extended."""
        if not self.is_extended:
            return ""
        server = self.staging_server_id
        text = f"extended from staging account {self.staging_account_id}"
        text += f" (server {server})" if server else ""
        if self.extension_status and self.extension_status != "EXTENDED":
            text += f": {self.extension_status}"
            text += f" ({self.extension_error})" if self.extension_error else ""
        return text

    def hostname_and_origin(self) -> str:
        """The hostname, and "(staging 222222222222)" for an extended server: what the plan editor shows
        where it names a server, so a plan's extended servers are told apart at a glance."""
        return f"{self.hostname} (staging {self.staging_account_id})" if self.is_extended else self.hostname

    def matches(self, selector: Mapping[str, str]) -> bool:
        """True when the server carries every tag of ``selector`` with the same value."""
        return all(self.tags.get(key) == value for key, value in selector.items())


@dataclass(frozen=True)
class Inventory:
    """The source servers of one account and region, as known at ``fetched_at``."""

    servers: tuple[SourceServer, ...] = ()
    fetched_at: datetime | None = None
    account_id: str = ""
    region: str = ""

    def by_id(self) -> dict[str, SourceServer]:
        return {server.source_server_id: server for server in self.servers}

    def matching(self, selector: Mapping[str, str]) -> tuple[str, ...]:
        """IDs of the servers carrying all of ``selector``'s tags, in inventory order."""
        return tuple(s.source_server_id for s in self.servers if s.matches(selector))


_SERVER_ARN = re.compile(r"^arn:[^:]+:drs:[^:]*:(\d{12}):source-server/(s-[0-9a-zA-Z]+)$")


def server_id_of_arn(arn: str) -> str:
    """The ``s-...`` of a source server ARN ("" when ``arn`` is not one)."""
    match = _SERVER_ARN.match(arn or "")
    return match.group(2) if match else ""


def account_of_server_arn(arn: str) -> str:
    """The account of a source server ARN ("" when ``arn`` is not one)."""
    match = _SERVER_ARN.match(arn or "")
    return match.group(1) if match else ""
