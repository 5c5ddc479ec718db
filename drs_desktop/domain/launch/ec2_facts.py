"""EC2 facts into DRS: what copying an AWS-hosted source server's EC2 tags and instance type changes.

Operators of AWS-hosted servers keep their facts on the EC2 instance (tags such as Application or
CostCenter, the instance type); DRS's source server starts without them, so tag-based protection groups
select nothing until someone copies them, which drs-tools and others do by script. These are the pure
rules of that copy: which tags to add or change on the DRS source server (never an ``aws:`` key, which
AWS reserves and DRS refuses; never removing a DRS tag), and the plan's desired launch settings with the
EC2 type as a server override (right-sizing NONE, so DRS does not replace the type at launch).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from drs_desktop.domain.launch.model import LaunchFields, LaunchSettings, Override, RightSizing

#: DRS's limit of tags on one resource.
MAX_DRS_TAGS = 50
RESERVED_PREFIX = "aws:"
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")


@dataclass(frozen=True)
class InstanceOrigin:
    """Where an AWS-hosted server's instance is read: its Region, or a ``problem`` saying why these
    credentials cannot read it (then ``region`` is "")."""

    region: str
    problem: str = ""


def instance_origin(
    origin_account: str, origin_region: str, *, account_id: str, region: str
) -> InstanceOrigin:
    """Where to read the instance DRS's ``sourceCloudProperties`` place in ``origin_account`` and
    ``origin_region``, with the credentials of DRS's ``account_id`` in ``region``.

    Cross-Region DR is the usual case: the instance runs in another Region of the same account, read
    there with the same credentials; no origin Region (an older answer) means DRS's. An instance in
    another account is not readable with these credentials (EC2 would say it does not exist, which
    would send the operator after the wrong cause), and a value that is not an account ID or a Region is
    not guessed at."""
    if origin_account and not _ACCOUNT.match(origin_account):
        return InstanceOrigin(
            "", f"DRS names its origin account as {origin_account[:40]!r}, not an account ID"
        )
    if origin_region and not _REGION.match(origin_region):
        return InstanceOrigin("", f"DRS names its origin Region as {origin_region[:40]!r}, not a Region")
    if origin_account and account_id and origin_account != account_id:
        return InstanceOrigin(
            "",
            f"its instance runs in account {origin_account} ({origin_region or 'Region not given'}); "
            f"these credentials are account {account_id}'s and cannot read it: copy its facts with "
            "that account's credentials",
        )
    return InstanceOrigin(origin_region or region)


@dataclass(frozen=True)
class TagChange:
    """One tag the copy sets on the DRS source server: ``before`` None when DRS has no such key."""

    key: str
    before: str | None
    after: str


@dataclass(frozen=True)
class TagCopy:
    """The tags to set, and the EC2 keys left out because AWS reserves them."""

    changes: tuple[TagChange, ...]
    reserved: tuple[str, ...]

    def as_tags(self) -> dict[str, str]:
        return {c.key: c.after for c in self.changes}


def is_reserved(key: str) -> bool:
    return key.lower().startswith(RESERVED_PREFIX)


def tag_copy(drs_tags: Mapping[str, str], ec2_tags: Mapping[str, str]) -> TagCopy:
    """The EC2 tags DRS lacks or holds with another value, in key order; DRS-only tags stay untouched."""
    changes = tuple(
        TagChange(key, drs_tags.get(key), value)
        for key, value in sorted(ec2_tags.items())
        if not is_reserved(key) and drs_tags.get(key) != value
    )
    reserved = tuple(sorted(k for k in ec2_tags if is_reserved(k)))
    return TagCopy(changes, reserved)


def too_many_tags(drs_tags: Mapping[str, str], copy: TagCopy) -> int | None:
    """The tag count after the copy when it exceeds DRS's limit (the copy would be refused), else None."""
    count = len(set(drs_tags) | {c.key for c in copy.changes})
    return count if count > MAX_DRS_TAGS else None


def with_instance_types(settings: LaunchSettings, types: Mapping[str, str]) -> LaunchSettings:
    """``settings`` in which each server of ``types`` is desired at that instance type, right-sizing NONE.

    A server override is the most specific layer and the last one naming a server wins (``resolve``), so
    the type goes into the last override naming the server when that override names it alone, else into
    a new one-server override at the end; every other setting and override is kept as written.
    """
    overrides = list(settings.overrides)
    for server_id, instance_type in sorted(types.items()):
        last = max(
            (i for i, o in enumerate(overrides) if not o.is_tag_selector and server_id in o.servers),
            default=None,
        )
        if last is not None and overrides[last].servers == (server_id,):
            fields = replace(
                overrides[last].settings, instance_type=instance_type, right_sizing=RightSizing.NONE
            )
            overrides[last] = replace(overrides[last], settings=fields)
        else:
            fields = LaunchFields(instance_type=instance_type, right_sizing=RightSizing.NONE)
            overrides.append(Override(settings=fields, servers=(server_id,)))
    return replace(settings, overrides=tuple(overrides))
