"""Plan validation of the desired launch settings: the settings' own checks, at the plan file's paths,
and the server overrides that name a server the plan or the group does not hold.

Kept apart from ``domain.plan.validation`` (which calls it last, the part being last in the document)
so that each stays readable; it reports plain ``(path, message, is_error)`` and learns a group's members
through the validator, which resolves tag groups once, against the inventory when there is one.
"""

from __future__ import annotations

from collections.abc import Callable

from drs_desktop.domain.launch.checks import Keys, settings_problems
from drs_desktop.domain.launch.isolation import profile_problems
from drs_desktop.domain.launch.model import LaunchSettings
from drs_desktop.domain.plan.document_base import join_path
from drs_desktop.domain.plan.model import RecoveryPlan

PART = "launch_settings"

#: A group's members by its index in the plan, None when they cannot be known (a tag group, no inventory).
Members = Callable[[int], tuple[str, ...] | None]
Found = list[tuple[str, str, bool]]


def launch_problems(plan: RecoveryPlan, members: Members) -> Found:
    """Every problem of the plan's and its groups' launch settings, in document order."""
    found: Found = []
    _settings(plan.launch_settings, PART, found)
    _strangers(plan.launch_settings, PART, _plan_members(plan, members), "a server of this plan", found)
    entry = 0
    for index, group in enumerate(plan.protection_groups):
        if group.launch_settings.is_empty():
            continue  # not written, so no entry in the file's ``groups`` list
        path = join_path(join_path(PART, "groups"), entry)
        entry += 1
        _settings(group.launch_settings, path, found)
        known = members(index)
        _strangers(
            group.launch_settings,
            path,
            set(known) if known is not None else None,
            f"in group {group.name!r}",
            found,
        )
    if plan.drill_profile is not None:
        found += [("drill_profile", message, True) for message in profile_problems(plan.drill_profile)]
    return found


def _settings(settings: LaunchSettings, path: str, found: Found) -> None:
    for keys, message, is_error in settings_problems(settings):
        found.append((_path(path, keys), message, is_error))


def _strangers(settings: LaunchSettings, path: str, known: set[str] | None, where: str, found: Found) -> None:
    """A server override naming a server that is not ``where`` applies to nothing: most likely a typo,
    or a server moved since, so say so (a warning: the plan still runs)."""
    if known is None:
        return
    for index, override in enumerate(settings.overrides):
        for position, server_id in enumerate(override.servers):
            if server_id not in known:
                found.append(
                    (
                        _path(path, ("overrides", index, "servers", position)),
                        f"{server_id} is not {where}; this override does not apply to it",
                        False,
                    )
                )


def _plan_members(plan: RecoveryPlan, members: Members) -> set[str] | None:
    known: set[str] = set()
    for index in range(len(plan.protection_groups)):
        found = members(index)
        if found is None:
            return None
        known.update(found)
    for wave in plan.waves:
        known.update(wave.servers)
    return known


def _path(base: str, keys: Keys) -> str:
    path = base
    for key in keys:
        path = join_path(path, key)
    return path
