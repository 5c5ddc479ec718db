"""Desired launch settings as a plan and its protection groups store them (docs/plan-format.md).

Every field is optional: None means "leave it as it is", never "clear it". A setting is a set of
``defaults`` and ``overrides``, each override selecting servers by tags (all of them, as a tag group does)
or by server ID. Which layer wins for a server is ``domain.launch.resolve``'s documented order.

Pure frozen values. Mappings are kept as given (the document reader builds fresh dicts), and excluded
from hashing like the plan's other mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum


class Disposition(StrEnum):
    """DRS's launchDisposition: whether the recovery instance is started once launched."""

    STARTED = "STARTED"
    STOPPED = "STOPPED"


class RightSizing(StrEnum):
    """DRS's targetInstanceTypeRightSizingMethod. Anything but NONE lets DRS pick the instance type at
    launch, overwriting the launch template's."""

    NONE = "NONE"
    BASIC = "BASIC"
    IN_AWS = "IN_AWS"


@dataclass(frozen=True)
class SubnetByIp:
    """The subnet chosen by the source server's IP: ``(CIDR, subnet ID)`` rows, most specific CIDR wins.

    Rows keep the order written (a plan file round-trips byte for byte); the order never decides a match,
    the prefix length does, and two rows with the same CIDR are refused by the checks.
    """

    rows: tuple[tuple[str, str], ...] = ()


#: A subnet ID (``subnet-...``) or a CIDR table.
Subnet = str | SubnetByIp

#: The field names, in the plan file's order; each is also the name of its ``LaunchFields`` attribute.
FIELD_NAMES = (
    "subnet",
    "security_groups",
    "instance_type",
    "right_sizing",
    "copy_private_ip",
    "os_byol",
    "copy_tags",
    "add_tags",
    "launch_disposition",
)


@dataclass(frozen=True)
class LaunchFields:
    """One layer's desired values; None leaves the field to lower layers (or as the server has it).

    ``add_tags`` are tags the launch template gives the recovery instance, added to the ones it already
    has (never removing any); across layers they merge key by key. Every other field is replaced whole
    by a higher layer that sets it (``security_groups`` included: the list is the whole set).
    """

    subnet: Subnet | None = None
    security_groups: tuple[str, ...] | None = None
    instance_type: str | None = None
    right_sizing: RightSizing | None = None
    copy_private_ip: bool | None = None
    os_byol: bool | None = None
    copy_tags: bool | None = None
    add_tags: Mapping[str, str] | None = field(default=None, hash=False)
    launch_disposition: Disposition | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def set_fields(self) -> tuple[str, ...]:
        """The names of the fields this layer sets, in ``FIELD_NAMES`` order."""
        return tuple(name for name in FIELD_NAMES if getattr(self, name) is not None)


@dataclass(frozen=True)
class Override:
    """Settings for the servers carrying all of ``tags``, or for the servers listed in ``servers``.

    Exactly one selector is meant to be set, as for a protection group; the checks report an override
    with both or neither (kept as written so that an invalid plan still round-trips).
    """

    settings: LaunchFields = LaunchFields()
    servers: tuple[str, ...] = ()
    tags: Mapping[str, str] | None = field(default=None, hash=False)

    @property
    def is_tag_selector(self) -> bool:
        return self.tags is not None

    def selects(self, server_id: str, server_tags: Mapping[str, str]) -> bool:
        """Whether this override applies to the server. An empty tag selector selects nothing (as an
        empty tag group does): "every server" must never be a typo's result."""
        if self.tags is not None:
            return bool(self.tags) and all(server_tags.get(k) == v for k, v in self.tags.items())
        return server_id in self.servers


@dataclass(frozen=True)
class LaunchSettings:
    """A plan's or a protection group's desired launch settings. Empty: nothing desired."""

    defaults: LaunchFields = LaunchFields()
    overrides: tuple[Override, ...] = ()

    def is_empty(self) -> bool:
        return self.defaults.is_empty() and not self.overrides


NO_SETTINGS = LaunchSettings()
