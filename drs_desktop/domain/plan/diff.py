"""What changed between two versions of a recovery plan, in words an operator reads at a glance.

Used to compare two revisions of a saved plan, or the editor's plan with the saved one. The semantic
diff names waves and groups rather than list positions ("wave 'Web': server s-... added"); whenever the
two plans differ it returns at least one line, and it returns none when they are equal.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from drs_desktop.domain.launch.isolation import DrillProfile
from drs_desktop.domain.plan.diff_automation import steps_lines
from drs_desktop.domain.plan.diff_brief import brief_lines, cadence_lines
from drs_desktop.domain.plan.diff_launch import launch_lines
from drs_desktop.domain.plan.model import PlanTarget, ProtectionGroup, RecoveryPlan, Wave

__all__ = ["diff_plans"]

_SHORT = 60
_PLAIN = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_N = TypeVar("_N", bound=_Named)


def diff_plans(old: RecoveryPlan, new: RecoveryPlan) -> list[str]:
    """One line per change from ``old`` to ``new``, plan fields first, then groups, then waves."""
    lines: list[str] = []
    if old.name != new.name:
        lines.append(f"name: {_quote(old.name)} -> {_quote(new.name)}")
    if old.description != new.description:
        lines.append(f"description: {_quote(old.description)} -> {_quote(new.description)}")
    for field, before, after in (
        ("rto_minutes", old.rto_minutes, new.rto_minutes),
        ("rpo_minutes", old.rpo_minutes, new.rpo_minutes),
    ):
        if before != after:
            lines.append(f"{field}: {_minutes(before)} -> {_minutes(after)}")
    lines += _diff_named("target", old.targets, new.targets, _describe_target, _diff_target)
    lines += _diff_named(
        "protection group", old.protection_groups, new.protection_groups, _describe_group, _diff_group
    )
    lines += _diff_named("wave", old.waves, new.waves, _describe_wave, _diff_wave)
    lines += launch_lines(old.launch_settings, new.launch_settings)
    if old.drill_profile != new.drill_profile:
        lines.append(f"drill profile: {_profile(old.drill_profile)} -> {_profile(new.drill_profile)}")
    lines += brief_lines(old.brief, new.brief) + cadence_lines(old.cadence, new.cadence)
    if not lines and old != new:  # a safety net: never report "no changes" for plans that differ
        lines.append("plans differ (compare the documents)")
    return lines


# ------------------------------------------------------------------------------------------ helpers


def _diff_named(
    kind: str,
    old: Sequence[_N],
    new: Sequence[_N],
    describe: Callable[[_N], str],
    diff_item: Callable[[_N, _N], list[str]],
) -> list[str]:
    """Items matched by name: removed, added, reordered, then each common item's own changes."""
    old_names = [item.name for item in old]
    new_names = [item.name for item in new]
    if len(set(old_names)) != len(old_names) or len(set(new_names)) != len(new_names):
        # Duplicate names (an invalid plan) cannot be matched by name: compare positions instead.
        if list(old) == list(new):
            return []
        return [f"{kind}s: {_names(old_names)} -> {_names(new_names)} (duplicate names; compare documents)"]
    lines: list[str] = []
    old_by_name = {item.name: item for item in old}
    new_by_name = {item.name: item for item in new}
    lines += [f"{kind} {_quote(name)} removed" for name in old_names if name not in new_by_name]
    for name in new_names:
        if name not in old_by_name:
            detail = describe(new_by_name[name])
            lines.append(f"{kind} {_quote(name)} added" + (f" ({detail})" if detail else ""))
    kept_old = [name for name in old_names if name in new_by_name]
    kept_new = [name for name in new_names if name in old_by_name]
    if kept_old != kept_new:
        lines.append(f"{kind}s reordered: {_names(kept_old)} -> {_names(kept_new)}")
    for name in kept_new:
        lines += [
            f"{kind} {_quote(name)}: {line}" for line in diff_item(old_by_name[name], new_by_name[name])
        ]
    return lines


def _diff_sequence(singular: str, plural: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    """Entries added and removed (as a multiset), or a reordering when only the order changed."""
    if tuple(old) == tuple(new):
        return []
    before, after = Counter(old), Counter(new)
    lines = [f"{singular} {_quote(item)} removed" for item in _ordered(old, before - after)]
    lines += [f"{singular} {_quote(item)} added" for item in _ordered(new, after - before)]
    if not lines:
        lines.append(f"{plural} reordered: {_names(old)} -> {_names(new)}")
    return lines


def _diff_target(old: PlanTarget, new: PlanTarget) -> list[str]:
    lines: list[str] = []
    for key in ("account", "region", "profile", "role_arn", "source_profile", "external_id", "mfa_serial"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            lines.append(
                f"{key}: {_quote(before) if before else 'none'} -> {_quote(after) if after else 'none'}"
            )
    return lines


def _describe_target(target: PlanTarget) -> str:
    how = f"profile {_quote(target.profile)}" if target.profile else f"role {_quote(target.role_arn)}"
    return f"{target.account} {target.region}, {how}"


def _target_name(name: str | None) -> str:
    return "(default)" if name is None else _quote(name)


def _diff_group(old: ProtectionGroup, new: ProtectionGroup) -> list[str]:
    lines = []
    if old.target != new.target:
        lines.append(f"target: {_target_name(old.target)} -> {_target_name(new.target)}")
    lines += _diff_sequence("server", "servers", old.server_ids, new.server_ids)
    lines += launch_lines(old.launch_settings, new.launch_settings)
    if old.tags is None or new.tags is None:
        if old.tags != new.tags:
            lines.append(f"tags: {_tags(old.tags)} -> {_tags(new.tags)}")
        return lines
    for key in old.tags:
        if key not in new.tags:
            lines.append(f"tag {_quote(key)} removed")
        elif old.tags[key] != new.tags[key]:
            lines.append(f"tag {_quote(key)}: {_quote(old.tags[key])} -> {_quote(new.tags[key])}")
    lines += [
        f"tag {_quote(key)}={_quote(value)} added" for key, value in new.tags.items() if key not in old.tags
    ]
    return lines


def _diff_wave(old: Wave, new: Wave) -> list[str]:
    lines = []
    if old.target != new.target:
        lines.append(f"target: {_target_name(old.target)} -> {_target_name(new.target)}")
    lines += _diff_sequence("group", "groups", old.groups, new.groups)
    lines += _diff_servers(old, new)
    for server in new.servers:
        # The target the server is in, its own entry or else its wave's: a change of the wave's target
        # is its own line above, and a server that stays in its account is not said to move.
        was = old.server_targets.get(server) or old.target
        now = new.server_targets.get(server) or new.target
        if server in old.servers and was != now:
            lines.append(f"server {_server(server)}: target {_target_name(was)} -> {_target_name(now)}")
    if old.depends_on != new.depends_on:
        lines.append(f"depends_on {_depends(old.depends_on)} -> {_depends(new.depends_on)}")
    lines += steps_lines("before", old.before, new.before)
    lines += steps_lines("after", old.after, new.after)
    return lines


def _diff_servers(old: Wave, new: Wave) -> list[str]:
    """Servers added or removed (with their impact), and impact changes of the servers kept."""
    lines: list[str] = []
    removed = _ordered(old.servers, Counter(old.servers) - Counter(new.servers))
    added = _ordered(new.servers, Counter(new.servers) - Counter(old.servers))
    lines += [f"server {_server(server)} removed" for server in removed]
    lines += [
        f"server {_server(server)} added"
        + (f" (target {_quote(new.server_targets[server])})" if server in new.server_targets else "")
        + (" (OPTIONAL)" if server in new.optional else "")
        for server in added
    ]
    if not removed and not added and old.servers != new.servers:
        lines.append(f"servers reordered: {_names(old.servers)} -> {_names(new.servers)}")
    if old.optional != new.optional:
        impact_lines: list[str] = []
        for server in dict.fromkeys((*old.optional, *new.optional)):
            if server in added or server in removed:
                continue
            before, after = old.impact_of(server), new.impact_of(server)
            if before != after:
                impact_lines.append(f"server {_server(server)}: {before} -> {after}")
        # Same set in another order or with repeats (added/removed servers were described above).
        explained = (set(old.optional) ^ set(new.optional)) & {*added, *removed}
        if not impact_lines and not explained:
            impact_lines.append(f"optional: {_names(old.optional)} -> {_names(new.optional)}")
        lines += impact_lines
    return lines


def _describe_wave(wave: Wave) -> str:
    parts = []
    if wave.servers:
        parts.append(_count(len(wave.servers), "server"))
    if wave.groups:
        parts.append(_count(len(wave.groups), "group"))
    return ", ".join(parts)


def _describe_group(group: ProtectionGroup) -> str:
    if group.tags is not None:
        return f"tags {_tags(group.tags)}"
    return _count(len(group.server_ids), "server")


def _ordered(sequence: Sequence[str], counts: Counter[str]) -> list[str]:
    """The entries of ``counts`` (with repeats) in the order they appear in ``sequence``."""
    remaining = Counter(counts)
    result: list[str] = []
    for item in sequence:
        if remaining[item] > 0:
            remaining[item] -= 1
            result.append(item)
    return result


def _quote(value: str) -> str:
    text = repr(value)
    if len(text) > _SHORT:
        text = text[: _SHORT - 4] + "...'"
    return text


def _server(server_id: str) -> str:
    """Server IDs bare, as operators know them; anything odd (an invalid plan) quoted."""
    return server_id if _PLAIN.fullmatch(server_id) else _quote(server_id)


def _names(names: Sequence[str]) -> str:
    return "[" + ", ".join(_quote(name) for name in names) + "]"


def _minutes(value: int | None) -> str:
    return "none" if value is None else str(value)


def _depends(value: tuple[str, ...] | None) -> str:
    return "(previous wave)" if value is None else _names(value)


def _tags(tags: Mapping[str, str] | None) -> str:
    if tags is None:
        return "none"
    return "{" + ", ".join(f"{_quote(key)}: {_quote(value)}" for key, value in tags.items()) + "}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _profile(profile: DrillProfile | None) -> str:
    if profile is None:
        return "none"
    return (
        f"subnets {', '.join(profile.subnets) or '-'}; "
        f"security groups {', '.join(profile.security_groups) or '-'}; "
        f"production {', '.join(profile.production_cidrs) or '-'}"
    )
