"""What the plan tree says about a row beyond its name: server counts, readiness and problem wording.

Kept out of ``plan_model`` (the model keeps rows in step with the plan; this module words them). A wave
built from protection groups counts the servers its groups select (tags resolved against the cached
inventory), so "2 groups" reads "2 groups · 14 servers". A server that is not ready (replication stalled,
disconnected, lagging past the plan's RPO: ``domain.preflight.server_readiness``) gets an icon and its
reason as tooltip on its row, on its group's row and, counted, on its wave's row: the operator sees it
while building the plan, not only at preflight.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from drs_desktop.domain.inventory import Inventory, SourceServer
from drs_desktop.domain.plan.model import Impact, RecoveryPlan
from drs_desktop.domain.plan.problem_places import problem_text
from drs_desktop.domain.plan.targets import group_target
from drs_desktop.domain.plan.validation import (
    Problem,
    resolve_group,
    resolve_wave_by_target,
    resolve_wave_servers,
)
from drs_desktop.domain.preflight.server_readiness import not_ready_reason

logger = logging.getLogger(__name__)

#: Colour of the not-ready mark: amber, apart from the problem icons' red and yellow triangles.
NOT_READY_COLOUR = "#d9822b"


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class RowMarks:
    """Counts and readiness of one plan against one inventory (rebuilt when either changes)."""

    def __init__(self) -> None:
        self._plan: RecoveryPlan | None = None
        self._inventory: Inventory | None = None
        self._servers: dict[str, SourceServer] = {}
        self._inventories: dict[str, Inventory] = {}
        self._reasons: dict[str, str] = {}
        self._icon: QIcon | None = None
        self._wave_ids: dict[int, tuple[str, ...]] = {}  # resolved once per plan and inventory
        self._group_ids: dict[str, tuple[str, ...]] = {}

    def update(
        self,
        plan: RecoveryPlan | None,
        inventory: Inventory | None,
        inventories: Mapping[str, Inventory] | None = None,
    ) -> None:
        """``inventory``: the connected target's; ``inventories``: each declared target's by plan target
        name (a plan that declares targets resolves each group in its own target's inventory)."""
        self._plan, self._inventory = plan, inventory
        self._inventories = dict(inventories or {}) if plan is not None and plan.targets else {}
        if self._inventories:
            # The IDs of all the plan's targets (the same ID in two accounts is rare: the first is shown).
            self._servers = {}
            for each in self._inventories.values():
                for server in each.servers:
                    self._servers.setdefault(server.source_server_id, server)
        else:
            self._servers = inventory.by_id() if inventory is not None else {}
        rpo = plan.rpo_minutes if plan is not None else None
        self._reasons = {sid: why for sid, s in self._servers.items() if (why := not_ready_reason(s, rpo))}
        self._wave_ids.clear()
        self._group_ids.clear()

    def wave_servers(self, index: int) -> tuple[str, ...]:
        """Every server of wave ``index``, its groups' members included (tags through the inventory)."""
        if index not in self._wave_ids and self._plan is not None:
            if self._inventories:
                found = resolve_wave_by_target(self._plan, index, self._inventories)
                self._wave_ids[index] = tuple(sid for sid, _ in found)
            else:
                self._wave_ids[index] = resolve_wave_servers(self._plan, index, self._inventory)
        return self._wave_ids.get(index, ())

    def group_servers(self, name: str) -> tuple[str, ...]:
        group_plan = self._plan
        group = group_plan.group(name) if group_plan is not None else None
        if group is None or group_plan is None:
            return ()
        if name not in self._group_ids:
            target = group_target(group_plan, group) if self._inventories else None
            inventory = self._inventories.get(target) if target is not None else self._inventory
            self._group_ids[name] = resolve_group(group, inventory)
        return self._group_ids[name]

    # ------------------------------------------------------------------------------------ wording

    def wave_summary(self, index: int) -> str:
        """ "2 groups · 14 servers · 1 optional · 2 steps": servers counted through the groups too."""
        plan = self._plan
        if plan is None or not 0 <= index < len(plan.waves):
            return ""
        wave = plan.waves[index]
        parts = []
        if wave.groups:
            parts.append(_plural(len(wave.groups), "group"))
        unresolved = self._inventory is None and any(
            (group := plan.group(name)) is not None and group.tags for name in wave.groups
        )
        total = len(self.wave_servers(index))
        servers = _plural(total, "server")
        if unresolved:  # a tag selector selects nothing known until the inventory is read
            servers = f"{servers} + tags unresolved" if total else "servers unknown without an inventory"
        parts.append(servers)
        optional = sum(1 for sid in wave.servers if wave.impact_of(sid) is Impact.OPTIONAL)
        if optional:
            parts.append(f"{optional} optional")
        steps = len(wave.before) + len(wave.after)
        if steps:
            parts.append(_plural(steps, "step"))
        return " · ".join(parts)

    def group_text(self, name: str) -> str:
        group = self._plan.group(name) if self._plan is not None else None
        if group is None:
            return "unknown protection group"
        if group.tags is None:
            return f"group of {_plural(len(group.server_ids), 'server')}"
        tags = "tags " + ", ".join(f"{k}={v}" for k, v in group.tags.items())
        if self._inventory is None:
            return tags
        return f"{tags} · {_plural(len(self.group_servers(name)), 'server')}"

    def problems_text(self, problems: Sequence[Problem]) -> str:
        plan = self._plan
        if plan is None:
            return "\n".join(str(problem) for problem in problems)
        hostnames = {sid: server.hostname for sid, server in self._servers.items() if server.hostname}
        return "\n".join(problem_text(problem, plan, hostnames) for problem in problems)

    # ---------------------------------------------------------------------------------- readiness

    def server_reason(self, server_id: str) -> str:
        """Why the server is not ready ("" when it is, or is unknown)."""
        return self._reasons.get(server_id, "")

    def entry_reason(self, kind: str, key: str) -> str:
        """The not-ready reason of a server row, or of the servers a group row selects."""
        if kind == "server":
            reason = self.server_reason(key)
            return f"Not ready: {reason}" if reason else ""
        if kind == "group":
            ids = self.group_servers(key)
            return self._list_not_ready(ids, len(ids))
        return ""

    def not_ready_count(self) -> int:
        """How many of the plan's servers (through groups too) are not ready."""
        waves = len(self._plan.waves) if self._plan is not None else 0
        return len({sid for w in range(waves) for sid in self.wave_servers(w) if sid in self._reasons})

    def wave_reason(self, index: int) -> str:
        ids = self.wave_servers(index)
        return self._list_not_ready(ids, len(ids))

    def icon(self) -> QIcon:
        """An amber clock-face dot: "not ready", distinct from the problem icons."""
        if self._icon is None:
            pixmap = QPixmap(16, 16)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(QColor(NOT_READY_COLOUR))
            painter.setPen(QColor("#8a4a0b"))
            painter.drawEllipse(2, 2, 12, 12)
            painter.setPen(QColor("white"))
            painter.drawLine(8, 5, 8, 8)
            painter.drawLine(8, 8, 11, 10)
            painter.end()
            self._icon = QIcon(pixmap)
        return self._icon

    def _list_not_ready(self, ids: Sequence[str], total: int) -> str:
        lagging = [sid for sid in ids if sid in self._reasons]
        if not lagging:
            return ""
        lines = [f"{len(lagging)} of {_plural(total, 'server')} not ready:"]
        for sid in lagging[:10]:
            server = self._servers.get(sid)
            label = f"{server.hostname} ({sid})" if server is not None and server.hostname else sid
            lines.append(f"• {label}: {self._reasons[sid]}")
        if len(lagging) > 10:
            lines.append(f"… and {len(lagging) - 10} more")
        return "\n".join(lines)
