"""What a plan's desired launch settings may hold, checked before anything is resolved or applied.

Each problem is ``(keys, message, is_error)``: ``keys`` the field's place below the settings checked, as
the plan file's keys and list indexes (``("overrides", 2, "subnet", "by_ip", "10.0.0.0/8")``), which the
plan joins into its field path so that a file import points at a line and the editor at a row.
The values are checked by their form here (a subnet ID that is one, a CIDR block without host bits, EC2's
tag rules); whether the subnet exists, or a server's IP fits, is known only against EC2 and the
inventory, in ``domain.launch.diff``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, SubnetByIp
from drs_desktop.domain.safe_text import name_problem

Keys = tuple[str | int, ...]
Found = list[tuple[Keys, str, bool]]

SUBNET_ID = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})\Z")
SECURITY_GROUP_ID = re.compile(r"^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})\Z")
#: EC2 instance types: family (with generation and attributes), a dot, a size: m5.large, u-6tb1.metal.
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]{0,31}\.[a-z0-9-]{1,32}\Z")
_SERVER_ID = re.compile(r"^s-[0-9a-zA-Z]{17}\Z")
#: EC2 allows at most 16 security groups on a network interface (5 unless the quota was raised).
MAX_SECURITY_GROUPS = 16
#: EC2's tag limits: 50 tags per resource, keys 1 to 128 characters, values up to 256, no "aws:" prefix.
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


def settings_problems(settings: LaunchSettings) -> Found:
    """Every problem of one plan's or group's launch settings, in document order."""
    found: Found = []
    fields_problems(settings.defaults, ("defaults",), found)
    for index, override in enumerate(settings.overrides):
        override_problems(override, ("overrides", index), found)
    return found


def override_problems(override: Override, path: Keys, found: Found) -> None:
    if override.tags is not None and override.servers:
        found.append(
            (path, "an override selects by tags or by servers, not both; make it two overrides", True)
        )
    elif override.tags is None and not override.servers:
        found.append(
            (path, "an override needs a selector: tags (all of them) or servers (a list of IDs)", True)
        )
    if override.tags is not None:
        if not override.tags:
            found.append(
                ((*path, "tags"), "an empty tag selector selects no server; name at least one tag", True)
            )
        for key, value in override.tags.items():
            _name(key, (*path, "tags"), found, "tag name")
            _name(value, (*path, "tags", key), found, "tag value")
    seen: set[str] = set()
    for index, server_id in enumerate(override.servers):
        where = (*path, "servers", index)
        if not _SERVER_ID.match(server_id):
            found.append(
                (where, f"{server_id!r} is not a source server ID (s- and 17 letters or digits)", True)
            )
        elif server_id in seen:
            found.append((where, f"{server_id} is listed twice in this override", True))
        seen.add(server_id)
    if override.settings.is_empty():
        found.append((path, "the override sets nothing; remove it or give it a setting", False))
    fields_problems(override.settings, path, found)


def fields_problems(fields: LaunchFields, path: Keys, found: Found) -> None:
    subnet = fields.subnet
    if isinstance(subnet, SubnetByIp):
        _table(subnet, (*path, "subnet", "by_ip"), found)
    elif subnet is not None and not SUBNET_ID.match(subnet):
        found.append(
            ((*path, "subnet"), f"{subnet!r} is not a subnet ID (subnet- and 8 or 17 hex digits)", True)
        )
    if fields.security_groups is not None:
        _security_groups(fields.security_groups, (*path, "security_groups"), found)
    if fields.instance_type is not None and not INSTANCE_TYPE.match(fields.instance_type):
        found.append(
            (
                (*path, "instance_type"),
                f"{fields.instance_type!r} is not an EC2 instance type such as m5.large",
                True,
            )
        )
    if fields.add_tags is not None:
        _add_tags(fields.add_tags, (*path, "add_tags"), found)


def _table(table: SubnetByIp, path: Keys, found: Found) -> None:
    if not table.rows:
        found.append((path, "the subnet table is empty; map at least one CIDR block to a subnet", True))
    seen: dict[str, str] = {}
    for cidr, subnet_id in table.rows:
        where = (*path, cidr)
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            found.append((where, _cidr_problem(cidr), True))
        else:
            canonical = str(network)
            if canonical in seen:
                found.append((where, f"the same block as {seen[canonical]!r}; keep one row per block", True))
            seen.setdefault(canonical, cidr)
        if not SUBNET_ID.match(subnet_id):
            found.append((where, f"{subnet_id!r} is not a subnet ID (subnet- and 8 or 17 hex digits)", True))


def _cidr_problem(cidr: str) -> str:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return f"{cidr!r} is not a CIDR block such as 10.1.0.0/16"
    return f"{cidr!r} has host bits set; the block is {network}"


def _security_groups(groups: tuple[str, ...], path: Keys, found: Found) -> None:
    if not groups:
        found.append((path, "no security group: leave the key out to keep the template's, or name one", True))
    if len(groups) > MAX_SECURITY_GROUPS:
        found.append((path, f"{len(groups)} security groups; EC2 allows at most {MAX_SECURITY_GROUPS}", True))
    seen: set[str] = set()
    for index, group in enumerate(groups):
        where = (*path, index)
        if not SECURITY_GROUP_ID.match(group):
            found.append((where, f"{group!r} is not a security group ID (sg- and 8 or 17 hex digits)", True))
        elif group in seen:
            found.append((where, f"{group} is listed twice", True))
        seen.add(group)


def _add_tags(tags: Mapping[str, str], path: Keys, found: Found) -> None:
    if len(tags) > MAX_TAGS:
        found.append((path, f"{len(tags)} tags; EC2 allows at most {MAX_TAGS} on an instance", True))
    for key, value in tags.items():
        where = (*path, key)
        if not key.strip() or len(key) > MAX_TAG_KEY:
            found.append((where, f"a tag key is 1 to {MAX_TAG_KEY} characters, not blank", True))
        elif key.lower().startswith("aws:"):
            found.append((where, "tag keys starting with 'aws:' are reserved for AWS", True))
        if len(value) > MAX_TAG_VALUE:
            found.append((where, f"a tag value is at most {MAX_TAG_VALUE} characters", True))
        _name(key, path, found, "tag name")
        _name(value, where, found, "tag value")


def _name(text: str, path: Keys, found: Found, what: str) -> None:
    problem = name_problem(text)
    if problem is not None:
        found.append((path, f"{what}: {problem}", True))
