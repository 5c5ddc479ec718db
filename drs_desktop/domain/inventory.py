"""Source servers as DRS reports them, reduced to what planning and preflight need."""

from __future__ import annotations

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
