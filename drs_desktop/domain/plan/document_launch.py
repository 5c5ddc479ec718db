"""The ``launch_settings`` part of plan format 2: desired launch settings, read and written.

Format 2 reserved the part's place (docs/plan-format.md) so that a release without it refuses such a file
instead of dropping it; this is what fills it. One part holds the plan's settings and, under ``groups``,
each protection group's (by name), so the group entries stay the four keys format 2 fixed::

    launch_settings:
      defaults: {FIELDS}
      overrides:
        - {tags: {K: V} | servers: [s-...], FIELDS}
      groups:
        - {group: NAME, defaults: {FIELDS}, overrides: [...]}

Structure only, like ``domain.plan.document``: shapes, types and the enum spellings; what the values
mean (subnet IDs, CIDR blocks, tag rules) is ``domain.launch.checks``'s job, through plan validation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from drs_desktop.domain.launch.model import (
    FIELD_NAMES,
    NO_SETTINGS,
    Disposition,
    LaunchFields,
    LaunchSettings,
    Override,
    RightSizing,
    SubnetByIp,
)
from drs_desktop.domain.plan.document_base import AmbiguousBoolean, ShapeReader, join_path, quote, type_name
from drs_desktop.domain.plan.model import ProtectionGroup, RecoveryPlan
from drs_desktop.domain.safe_text import surrogate_problem

__all__ = [
    "FIELD_KEYS",
    "LAUNCH_KEYS",
    "fields_to_document",
    "launch_settings_to_document",
    "read_launch_settings",
    "uses_launch_settings",
]

PART = "launch_settings"
LAUNCH_KEYS = ("defaults", "overrides", "groups")
GROUP_ENTRY_KEYS = ("group", "defaults", "overrides")
FIELD_KEYS = FIELD_NAMES
OVERRIDE_KEYS = ("tags", "servers", *FIELD_NAMES)
_BOOLEANS = ("copy_private_ip", "os_byol", "copy_tags")
_SUBNET_SHAPE = "a subnet ID, or {by_ip: {CIDR: subnet ID}}"


def uses_launch_settings(plan: RecoveryPlan) -> bool:
    """Whether the plan or any of its groups desires a launch setting (which needs format 2)."""
    if not plan.launch_settings.is_empty():
        return True
    return any(not group.launch_settings.is_empty() for group in plan.protection_groups)


# ------------------------------------------------------------------------------------------- export


def launch_settings_to_document(plan: RecoveryPlan) -> dict[str, Any] | None:
    """The part for ``plan`` in canonical form, or None when nothing is desired (the key is left out)."""
    if not uses_launch_settings(plan):
        return None
    doc = _settings_to_document(plan.launch_settings)
    groups = [
        {"group": group.name, **_settings_to_document(group.launch_settings)}
        for group in plan.protection_groups
        if not group.launch_settings.is_empty()
    ]
    if groups:
        doc["groups"] = groups
    return doc


def _settings_to_document(settings: LaunchSettings) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if not settings.defaults.is_empty():
        doc["defaults"] = fields_to_document(settings.defaults)
    if settings.overrides:
        doc["overrides"] = [_override_to_document(override) for override in settings.overrides]
    return doc


def _override_to_document(override: Override) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if override.tags is not None:
        doc["tags"] = dict(override.tags)
    # An override with neither selector (invalid, but it must round-trip) is written as ``servers: []``.
    if override.servers or override.tags is None:
        doc["servers"] = list(override.servers)
    doc.update(fields_to_document(override.settings))
    return doc


def fields_to_document(fields: LaunchFields) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for name in fields.set_fields():
        value = getattr(fields, name)
        if isinstance(value, SubnetByIp):
            doc[name] = {"by_ip": dict(value.rows)}
        elif isinstance(value, tuple):
            doc[name] = list(value)
        elif isinstance(value, Mapping):
            doc[name] = dict(value)
        elif isinstance(value, RightSizing | Disposition):
            doc[name] = value.value
        else:
            doc[name] = value
    return doc


# ------------------------------------------------------------------------------------------- import


def read_launch_settings(
    reader: ShapeReader, value: object, groups: tuple[ProtectionGroup, ...]
) -> tuple[LaunchSettings, tuple[ProtectionGroup, ...]]:
    """The plan's launch settings, and ``groups`` with theirs attached (by name, in order: the n-th
    entry naming a group goes to the n-th group of that name, so even a plan with a duplicate group
    name, which validation refuses, round-trips)."""
    if value is None:
        return NO_SETTINGS, groups
    fields = reader.mapping(value, PART, LAUNCH_KEYS, (), "launch settings")
    if fields is None:
        return NO_SETTINGS, groups
    plan_settings = _settings(reader, fields, PART)
    attached = list(groups)
    given: set[int] = set()
    for index, item in enumerate(reader.list_of(fields.get("groups"), join_path(PART, "groups"), "groups")):
        path = join_path(join_path(PART, "groups"), index)
        entry = reader.mapping(item, path, GROUP_ENTRY_KEYS, ("group",), "a group's launch settings")
        if entry is None or entry.get("group") is None:
            continue
        name = reader.string(entry["group"], join_path(path, "group"))
        if name is None:
            continue
        settings = _settings(reader, entry, path)
        slot = next((i for i, g in enumerate(attached) if g.name == name and i not in given), None)
        if slot is None:
            known = any(group.name == name for group in groups)
            reader.add(
                join_path(path, "group"),
                f"the launch settings of group {quote(name)} are given twice; merge them"
                if known
                else f"no protection group is named {quote(name)}",
            )
            continue
        given.add(slot)
        attached[slot] = replace(attached[slot], launch_settings=settings)
    return plan_settings, tuple(attached)


def _settings(reader: ShapeReader, fields: Mapping[str, Any], path: str) -> LaunchSettings:
    defaults = LaunchFields()
    if fields.get("defaults") is not None:
        where = join_path(path, "defaults")
        found = reader.mapping(fields["defaults"], where, FIELD_KEYS, (), "launch settings defaults")
        defaults = _fields(reader, found, where) if found is not None else LaunchFields()
    overrides: list[Override] = []
    for index, item in enumerate(
        reader.list_of(fields.get("overrides"), join_path(path, "overrides"), "overrides")
    ):
        override = _override(reader, item, join_path(join_path(path, "overrides"), index))
        if override is not None:
            overrides.append(override)
    return LaunchSettings(defaults=defaults, overrides=tuple(overrides))


def _override(reader: ShapeReader, value: object, path: str) -> Override | None:
    fields = reader.mapping(value, path, OVERRIDE_KEYS, (), "an override")
    if fields is None:
        return None
    tags = None
    if fields.get("tags") is not None:
        tags = _string_map(reader, fields["tags"], join_path(path, "tags"), "tag names")
    servers = reader.string_list(fields.get("servers"), join_path(path, "servers"), "source server IDs")
    settings = _fields(reader, {k: v for k, v in fields.items() if k in FIELD_KEYS}, path)
    return Override(settings=settings, servers=servers, tags=tags)


def _fields(reader: ShapeReader, fields: Mapping[str, Any], path: str) -> LaunchFields:
    values: dict[str, Any] = {}
    for name in FIELD_KEYS:
        value = fields.get(name)
        if value is None:
            continue
        where = join_path(path, name)
        read: object = None
        if name == "subnet":
            read = _subnet(reader, value, where)
        elif name == "security_groups":
            read = (
                reader.string_list(value, where, "security group IDs")
                if _is_list(reader, value, where)
                else None
            )
        elif name == "instance_type":
            read = reader.string(value, where)
        elif name == "right_sizing":
            read = _enum(reader, value, where, RightSizing)
        elif name == "launch_disposition":
            read = _enum(reader, value, where, Disposition)
        elif name in _BOOLEANS:
            read = _boolean(reader, value, where)
        elif name == "add_tags":
            read = _string_map(reader, value, where, "tag names")
        if read is not None:
            values[name] = read
    return LaunchFields(**values)


def _is_list(reader: ShapeReader, value: object, path: str) -> bool:
    if isinstance(value, list | tuple):
        return True
    reader.add(path, f"must be a list of security group IDs, got {type_name(value)}")
    return False


def _subnet(reader: ShapeReader, value: object, path: str) -> str | SubnetByIp | None:
    if isinstance(value, Mapping):
        fields = reader.mapping(value, path, ("by_ip",), ("by_ip",), _SUBNET_SHAPE)
        if fields is None or fields.get("by_ip") is None:
            return None
        rows = _string_map(reader, fields["by_ip"], join_path(path, "by_ip"), "CIDR blocks")
        return SubnetByIp(tuple(rows.items())) if rows is not None else None
    if isinstance(value, str):
        return reader.string(value, path)
    reader.add(path, f"must be {_SUBNET_SHAPE}, got {type_name(value)}")
    return None


def _boolean(reader: ShapeReader, value: object, path: str) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, AmbiguousBoolean):
        reader.add(path, value.problem())
        return None
    reader.add(path, f"must be true or false, got {type_name(value)} {quote(value)}")
    return None


def _enum(reader: ShapeReader, value: object, path: str, kind: type[RightSizing] | type[Disposition]) -> Any:
    values = [member.value for member in kind]
    text = reader.string(value, path)
    if text is None:
        return None
    if text in values:
        return kind(text)
    allowed = ", ".join(values)
    hint = f" (write {text.upper()})" if text.upper() in values else ""
    reader.add(path, f"{quote(text)} is not one of {allowed}{hint}")
    return None


def _string_map(reader: ShapeReader, value: object, path: str, keys: str) -> dict[str, str] | None:
    """A mapping of strings to strings, in the order written; None (and a problem) when not a mapping."""
    if not isinstance(value, Mapping):
        reader.add(path, f"must be a mapping of {keys} to values, got {type_name(value)}")
        return None
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            reader.add(path, f"{keys} must be strings, got {type_name(key)} {quote(key)} (put it in quotes)")
            continue
        problem = surrogate_problem(key)
        if problem is not None:
            reader.add(join_path(path, key), problem)
        text = reader.string(item, join_path(path, key))
        if text is not None and problem is None:
            result[key] = text
    return result
