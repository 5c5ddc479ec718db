"""What a drill into a drill network adds to an execution's spec and state (``engine.drill_net`` says how
it moves).

A drill of a plan with a drill profile launches its servers into the profile's subnet and security groups:
before a chunk starts, each of its servers' EC2 launch templates gets a new version pointing there, made the
default (DRS launches from the default version); once the server's job has ended, the default goes back to
the production version. ``DrillNetSpec`` fixes, when the run starts, where a drill launches and each
server's launch template (read from its DRS launch configuration while preparing); ``NetState`` is where
one server's template stands. A RECOVERY never has a ``DrillNetSpec``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True, kw_only=True)
class DrillNetSpec:
    """Where this drill launches, and each server's launch template ID (a server missing from
    ``templates`` has none DRS names: it cannot be pointed, so it is never launched by this drill)."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...] = ()
    templates: Mapping[str, str] = field(default_factory=dict)

    @property
    def subnet_id(self) -> str:
        """The profile's first subnet: where a server goes when no drill subnet shares its production
        subnet's Availability Zone (``services.drill_net_calls`` picks per server)."""
        return self.subnet_ids[0] if self.subnet_ids else ""


class NetStatus(StrEnum):
    NONE = "NONE"  # the template is as production left it (as far as this run knows)
    POINT_REQUESTED = "POINT_REQUESTED"  # journaled before the EC2 calls; an answer is not (yet) known
    POINTED = "POINTED"  # the default version is this run's drill version
    RESTORE_REQUESTED = "RESTORE_REQUESTED"
    RESTORED = "RESTORED"  # the default is the production version again
    FAILED = "FAILED"  # pointing or restoring failed for good (``error`` says why)
    #: Setting the drill version as the default got no answer and the read-back failed: the template MAY
    #: be pointed. The server is not launched; a restore (which reads the default first) settles it.
    POINT_UNKNOWN = "POINT_UNKNOWN"


#: Statuses in which the template may still be a drill version of this run: the run does not finish.
NET_OPEN = frozenset(
    {NetStatus.POINT_REQUESTED, NetStatus.POINTED, NetStatus.RESTORE_REQUESTED, NetStatus.POINT_UNKNOWN}
)


@dataclass(frozen=True, kw_only=True)
class NetState:
    """One server's launch template in this drill. ``points`` counts the points requested (a retried
    server is pointed again: its client token differs); ``restore_attempts`` the restores that failed
    for a reason that may pass (retried at ``restore_not_before``); ``changed_to``: the default someone
    else set during the drill, left as it is."""

    server_id: str
    template_id: str
    status: NetStatus = NetStatus.NONE
    production_version: int | None = None
    drill_version: int | None = None
    subnet_id: str = ""  # the drill subnet its drill version points at (by the production subnet's zone)
    points: int = 0
    point_requested_at: datetime | None = None
    pointed_at: datetime | None = None
    restore_requested_at: datetime | None = None
    restored_at: datetime | None = None
    restore_attempts: int = 0
    restore_not_before: datetime | None = None
    changed_to: int | None = None
    error: str = ""
    failed_in: str = ""  # "point" | "restore"
    #: The point's outcome was not known (POINT_UNKNOWN): a restore that may pass goes back to that.
    maybe_pointed: bool = False
    #: Times the drill version was found no longer the default right before a start, and pointed again.
    repoints: int = 0
    #: A drill version made by a point that then failed (never the default), and whether it was deleted.
    unused_version: int | None = None
    unused_deleted: bool = False


def initial_net(spec: DrillNetSpec | None, server_ids: tuple[str, ...]) -> Mapping[str, NetState]:
    """Every server's ``NetState`` at the start of a drill with ``spec`` (none without one)."""
    if spec is None:
        return {}
    return {s: NetState(server_id=s, template_id=spec.templates.get(s, "")) for s in server_ids}
