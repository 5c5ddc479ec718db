"""Launch settings drift, as the Servers view, the plan editor and the dashboard show it, and "accept".

Drift is a plan's server whose DRS launch configuration or launch template default version differs from
the plan's desired launch settings: the preview's ``changed`` servers (``domain.plan.launch_preview``).
It is read with the inventory refresh (and on demand) and always carries the time it was read, because
an out-of-band edit in the console makes any reading stale.

Accepting a drift makes what the server has now its desired state: a server override in the plan's launch
settings holding the current value of every drifted field (the plan's server overrides are the highest
layer, ``domain.launch.resolve``), saved by the caller as a new plan revision. A change that no override
can express (a tag the server lacks: desired tags are only ever added) is named, never silently dropped.

Pure, stdlib only: the caller passes what it read.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from drs_desktop.domain.launch.current import LaunchConfigLike, TemplateValues
from drs_desktop.domain.launch.diff import FieldChange, ServerLaunchPlan
from drs_desktop.domain.launch.model import Disposition, LaunchFields, LaunchSettings, Override, RightSizing
from drs_desktop.domain.plan.launch_preview import LaunchPreview
from drs_desktop.domain.plan.model import RecoveryPlan

__all__ = [
    "Accepted",
    "DriftState",
    "LaunchDrift",
    "PlanDrift",
    "ServerDrift",
    "accept_fields",
    "has_launch_settings",
    "plan_drift",
    "with_accepted",
]


class DriftState(StrEnum):
    AS_DESIRED = "as desired"
    DRIFTED = "drifted"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class ServerDrift:
    """One server of one plan: its state, what differs (``field: current -> desired``) and problems."""

    server_id: str
    hostname: str
    plan_name: str
    state: DriftState
    changes: tuple[FieldChange, ...] = ()  # before: what DRS or EC2 holds now; after: the desired value
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.hostname or self.server_id

    @property
    def fields(self) -> tuple[str, ...]:
        """The drifted fields' names (``tag KEY`` for one tag)."""
        return tuple(change.field for change in self.changes)

    def column_text(self) -> str:
        """The Servers view's words: "as desired", "2 field(s) drifted", "blocked: reason"."""
        if self.state is DriftState.BLOCKED:
            return f"blocked: {self.errors[0] if self.errors else 'see the plan'}"
        if self.state is DriftState.DRIFTED:
            return f"{len(self.changes)} field(s) drifted"
        return "as desired"


@dataclass(frozen=True)
class PlanDrift:
    """One plan's launch settings against DRS and EC2 as read at ``read_at``. ``error``: the read failed
    (nothing is known); ``unknown``: the plan's servers missing from the inventory."""

    plan_name: str
    revision: int
    read_at: datetime | None
    servers: tuple[ServerDrift, ...] = ()
    unknown: tuple[str, ...] = ()
    error: str = ""
    #: The plan's servers whose launch template's default version is a drill version (a drill under way,
    #: or one a kill left): a recovery would launch them into the drill network.
    drill_pointed: tuple[str, ...] = ()

    @property
    def drifted(self) -> tuple[ServerDrift, ...]:
        return tuple(s for s in self.servers if s.state is DriftState.DRIFTED)

    @property
    def blocked(self) -> tuple[ServerDrift, ...]:
        return tuple(s for s in self.servers if s.state is DriftState.BLOCKED)

    def server(self, server_id: str) -> ServerDrift | None:
        return next((s for s in self.servers if s.server_id == server_id), None)

    def summary(self) -> str:
        """The dashboard card's line: "launch settings: 3 servers drifted, 1 blocked"; servers launching
        from a drill version come first."""
        if self.error:
            return f"launch settings: not read ({self.error})"
        parts = []
        if self.drill_pointed:
            count = len(self.drill_pointed)
            parts.append(
                f"{count} server{'s' if count != 1 else ''} launch from a DRILL version "
                f"(drs-desktop launch-settings restore --plan {shlex.quote(self.plan_name)})"
            )
        if self.servers:
            parts.append(self._settings_summary())
        return "launch settings: " + ("; ".join(parts) if parts else "none desired")

    def _settings_summary(self) -> str:
        drifted, blocked = len(self.drifted), len(self.blocked)
        if not drifted and not blocked:
            return f"all {len(self.servers)} server(s) as desired"
        parts = []
        if drifted:
            parts.append(f"{drifted} server{'s' if drifted != 1 else ''} drifted")
        if blocked:
            parts.append(f"{blocked} blocked")
        return ", ".join(parts)


@dataclass(frozen=True)
class LaunchDrift:
    """Every plan with desired launch settings, read at ``read_at`` (None: never read)."""

    plans: tuple[PlanDrift, ...] = ()
    read_at: datetime | None = None
    #: Servers (of any plan read) whose launch template's default version is a drill version, and what it
    #: is: shown before anything else, in red (a recovery would launch them into the drill network).
    drill_pointed: Mapping[str, str] = field(default_factory=dict)

    def plan(self, name: str) -> PlanDrift | None:
        return next((p for p in self.plans if p.plan_name.casefold() == name.casefold()), None)

    def of_server(self, server_id: str) -> tuple[ServerDrift, ...]:
        return tuple(s for p in self.plans for s in p.servers if s.server_id == server_id)

    def column_text(self, server_id: str) -> str:
        """The server's state over every plan that desires something of it; the worst plan first. A
        server launching from a drill version says that first, whatever else."""
        if server_id in self.drill_pointed:
            return "DRILL VERSION: a recovery would launch into the drill network"
        found = self.of_server(server_id)
        if not found:
            failed = [p for p in self.plans if p.error]
            return "not read" if failed and not self.plans_read() else "no desired state"
        ranked = sorted(found, key=lambda s: _RANK[s.state])
        worst = ranked[0]
        text = worst.column_text()
        if len(found) > 1 and worst.state is not DriftState.AS_DESIRED:
            text += f" ({worst.plan_name})"
        return text

    def tooltip(self, server_id: str) -> str:
        lines = []
        if server_id in self.drill_pointed:
            lines.append(
                f"launch template default is a drill version ({self.drill_pointed[server_id]}); "
                "drs-desktop launch-settings restore sets the production version back"
            )
        for drift in self.of_server(server_id):
            lines.append(f"plan {drift.plan_name}: {drift.column_text()}")
            lines += [
                f"  {change.field}: {change.before} (now) -> {change.after} (desired)"
                for change in drift.changes
            ]
            lines += [f"  error: {e}" for e in drift.errors] + [f"  warning: {w}" for w in drift.warnings]
        return "\n".join(lines)

    def plans_read(self) -> tuple[PlanDrift, ...]:
        return tuple(p for p in self.plans if not p.error)


_RANK = {DriftState.BLOCKED: 0, DriftState.DRIFTED: 1, DriftState.AS_DESIRED: 2}


def has_launch_settings(plan: RecoveryPlan) -> bool:
    """Whether the plan or any of its protection groups desires a launch setting."""
    return not plan.launch_settings.is_empty() or any(
        not group.launch_settings.is_empty() for group in plan.protection_groups
    )


def reads_launch_state(plan: RecoveryPlan) -> bool:
    """Whether the drift reading covers the plan: it desires launch settings, or it drills into a drill
    network (whose templates may be left on a drill version)."""
    return has_launch_settings(plan) or plan.drill_profile is not None


def server_drift(plan_name: str, server: ServerLaunchPlan) -> ServerDrift:
    state = (
        DriftState.BLOCKED
        if server.blocked
        else DriftState.DRIFTED
        if server.changed
        else DriftState.AS_DESIRED
    )
    return ServerDrift(
        server_id=server.server_id,
        hostname=server.hostname,
        plan_name=plan_name,
        state=state,
        changes=server.changes,
        errors=tuple(problem.message for problem in server.errors),
        warnings=tuple(problem.message for problem in server.warnings),
    )


def plan_drift(
    plan_name: str,
    revision: int,
    preview: LaunchPreview,
    read_at: datetime | None,
    drill_pointed: tuple[str, ...] = (),
) -> PlanDrift:
    return PlanDrift(
        plan_name=plan_name,
        revision=revision,
        read_at=read_at,
        servers=tuple(server_drift(plan_name, server) for server in preview.servers),
        unknown=preview.unknown,
        drill_pointed=drill_pointed,
    )


# ------------------------------------------------------------------------------------------ accepting


@dataclass(frozen=True)
class Accepted:
    """The current values that become desired for one server, and the drifted fields that cannot be."""

    fields: LaunchFields
    refused: tuple[str, ...] = ()
    accepted: tuple[str, ...] = field(default_factory=tuple)


def accept_fields(
    server: ServerLaunchPlan, config: LaunchConfigLike | None, template: TemplateValues | None
) -> Accepted:
    """The override that makes ``server``'s current values desired, field by field of its changes.

    ``config`` and ``template`` are what DRS and EC2 hold now (the same reading as the preview's).
    """
    values: dict[str, object] = {}
    tags: dict[str, str] = {}
    refused: list[str] = []
    accepted: list[str] = []
    for change in server.changes:
        name = change.field
        value = _current_value(name, config, template)
        if name.startswith("tag "):
            key = name.removeprefix("tag ")
            current = template.tags.get(key) if template is not None else None
            if current is None:
                refused.append(f"{name}: the server has no such tag, and desired tags can only add one")
                continue
            tags[key] = current
            accepted.append(name)
        elif name == "private_ip":
            continue  # follows the subnet: accepting the subnet keeps the template's private IP
        elif value is None:
            refused.append(f"{name}: the current value is not known")
        else:
            values[name] = value
            accepted.append(name)
    if tags:
        values["add_tags"] = tags
    return Accepted(LaunchFields(**values), tuple(refused), tuple(accepted))  # type: ignore[arg-type]


def _current_value(name: str, config: LaunchConfigLike | None, template: TemplateValues | None) -> object:
    if name in ("subnet", "security_groups", "instance_type"):
        if template is None:
            return None
        if name == "subnet":
            return template.subnet_id or None
        if name == "security_groups":
            return tuple(template.security_group_ids)
        return template.instance_type or None
    if config is None:
        return None
    if name == "launch_disposition":
        return _enum(Disposition, config.launch_disposition)
    if name == "right_sizing":
        return _enum(RightSizing, config.right_sizing)
    if name in ("copy_private_ip", "copy_tags", "os_byol"):
        return getattr(config, name)
    return None


def _enum(kind: type[Disposition] | type[RightSizing], value: str) -> object:
    try:
        return kind(value)
    except ValueError:
        return None


def with_accepted(plan: RecoveryPlan, server_id: str, fields: LaunchFields) -> RecoveryPlan:
    """``plan`` with ``fields`` desired for ``server_id``: merged into the plan's last override naming
    that server alone (so accepting twice keeps one override), else a new override at the end."""
    if fields.is_empty():
        return plan
    settings = plan.launch_settings
    overrides = list(settings.overrides)
    index = next(
        (i for i in range(len(overrides) - 1, -1, -1) if _only_server(overrides[i], server_id)), None
    )
    if index is None:
        overrides.append(Override(settings=fields, servers=(server_id,)))
    else:
        overrides[index] = replace(overrides[index], settings=_merged(overrides[index].settings, fields))
    return replace(plan, launch_settings=LaunchSettings(settings.defaults, tuple(overrides)))


def _only_server(override: Override, server_id: str) -> bool:
    return override.tags is None and tuple(override.servers) == (server_id,)


def _merged(base: LaunchFields, new: LaunchFields) -> LaunchFields:
    values: dict[str, object] = {name: getattr(new, name) for name in new.set_fields()}
    if base.add_tags and new.add_tags:
        values["add_tags"] = {**base.add_tags, **new.add_tags}
    return replace(base, **values)  # type: ignore[arg-type]


def accepted_comment(server: ServerDrift, accepted: Sequence[str]) -> str:
    """The revision's comment: which server's drift became desired, field by field."""
    return f"accepted launch settings drift of {server.label} ({server.server_id}): {', '.join(accepted)}"


def by_plan(drift: LaunchDrift) -> Mapping[str, PlanDrift]:
    return {plan.plan_name: plan for plan in drift.plans}
