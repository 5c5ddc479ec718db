"""What changed since a plan's last good drill: servers added to or removed from the plan, re-tagged,
or whose launch settings differ.

Why it matters: a drill proves the estate as it was that day. A server that joined a tag group since,
or whose launch template changed, has not been proven; the operator should know before trusting the
last green drill. The execution records, when it starts, the servers each wave resolved to (its spec)
and a baseline of each server (hostname, tags and, when a preflight read them, launch settings: see
``baseline_of``); this module compares that baseline with today's. Executions journaled before the
baseline was recorded still give the added and removed servers (from their spec); tags and launch
settings are then "not recorded", never "unchanged". Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from drs_desktop.domain.drs.views import LaunchConfigView
from drs_desktop.domain.inventory import Inventory

__all__ = [
    "ChangeSet",
    "ServerBaseline",
    "ServerChange",
    "baseline_from_json",
    "baseline_of",
    "baseline_to_json",
    "changes_since",
    "launch_settings",
]

#: The options key of an execution record that holds the servers' baseline (absent in older records).
BASELINE_KEY = "baseline"


@dataclass(frozen=True)
class ServerBaseline:
    """A server as a run saw it. ``launch`` None: its launch settings were not read (not "none")."""

    hostname: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    launch: Mapping[str, str] | None = None


def launch_settings(view: LaunchConfigView) -> dict[str, str]:
    """The launch settings that change what a recovery launches, as text (the server ID left out)."""
    values: dict[str, str] = {}
    for item in fields(view):
        if item.name == "source_server_id":
            continue
        value = getattr(view, item.name)
        values[item.name] = "" if value is None else str(value)
    return values


def baseline_of(
    server_ids: Iterable[str],
    inventory: Inventory | None,
    launch_configs: Mapping[str, LaunchConfigView | None] | None = None,
) -> dict[str, ServerBaseline]:
    """Each server as ``inventory`` (and the launch configurations read, if any) show it now."""
    known = inventory.by_id() if inventory is not None else {}
    configs = launch_configs or {}
    baseline: dict[str, ServerBaseline] = {}
    for server_id in dict.fromkeys(server_ids):
        server = known.get(server_id)
        view = configs.get(server_id)
        launch = launch_settings(view) if view is not None else ({} if server_id in configs else None)
        baseline[server_id] = ServerBaseline(
            hostname=server.hostname if server is not None else "",
            tags=dict(server.tags) if server is not None else {},
            launch=launch,
        )
    return baseline


def baseline_to_json(baseline: Mapping[str, ServerBaseline]) -> dict[str, Any]:
    return {
        server_id: {
            "hostname": b.hostname,
            "tags": dict(b.tags),
            **({"launch": dict(b.launch)} if b.launch is not None else {}),
        }
        for server_id, b in baseline.items()
    }


def baseline_from_json(data: Any) -> dict[str, ServerBaseline] | None:
    """The recorded baseline, or None when the record has none (or one this version cannot read)."""
    if not isinstance(data, Mapping):
        return None
    baseline: dict[str, ServerBaseline] = {}
    for server_id, item in data.items():
        if not isinstance(item, Mapping):
            return None
        tags = item.get("tags") or {}
        launch = item.get("launch")
        baseline[str(server_id)] = ServerBaseline(
            hostname=str(item.get("hostname") or ""),
            tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {},
            launch={str(k): str(v) for k, v in launch.items()} if isinstance(launch, Mapping) else None,
        )
    return baseline


@dataclass(frozen=True)
class ServerChange:
    """One server's change, ``detail`` in the operator's words (``tag Tier: web -> app``)."""

    server_id: str
    label: str
    detail: str = ""


@dataclass(frozen=True)
class ChangeSet:
    """Differences between the last good drill and today. ``tags_compared``/``launch_compared``: False
    when the drill recorded no baseline of them, so "no change" could not be said."""

    added: tuple[ServerChange, ...] = ()
    removed: tuple[ServerChange, ...] = ()
    retagged: tuple[ServerChange, ...] = ()
    launch_changed: tuple[ServerChange, ...] = ()
    tags_compared: bool = True
    launch_compared: bool = True

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.retagged or self.launch_changed)

    @property
    def count(self) -> int:
        return len(self.added) + len(self.removed) + len(self.retagged) + len(self.launch_changed)


def _label(server_id: str, *found: ServerBaseline | None) -> str:
    for item in found:
        if item is not None and item.hostname:
            return item.hostname
    return server_id


def _differences(before: Mapping[str, str], after: Mapping[str, str], what: str) -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            lines.append(f"{what} {key} added ({new})")
        elif new is None:
            lines.append(f"{what} {key} removed (was {old})")
        else:
            lines.append(f"{what} {key}: {old} -> {new}")
    return lines


def changes_since(
    drill_servers: Iterable[str],
    drill_baseline: Mapping[str, ServerBaseline] | None,
    today: Mapping[str, ServerBaseline],
) -> ChangeSet:
    """Compare the drill's servers (its spec) and their recorded baseline (None: not recorded) with the
    plan's servers today (``today``: its resolved servers, each as the inventory shows it now).

    Launch settings are compared only for servers whose settings both sides read."""
    drilled = list(dict.fromkeys(drill_servers))
    drilled_set = set(drilled)
    before = drill_baseline or {}
    added = tuple(ServerChange(s, _label(s, today.get(s))) for s in today if s not in drilled_set)
    removed = tuple(ServerChange(s, _label(s, before.get(s))) for s in drilled if s not in today)
    retagged: list[ServerChange] = []
    launch: list[ServerChange] = []
    launch_compared = False
    for server_id in drilled:
        old, new = before.get(server_id), today.get(server_id)
        if old is None or new is None:
            continue
        label = _label(server_id, new, old)
        tag_lines = _differences(old.tags, new.tags, "tag")
        if tag_lines:
            retagged.append(ServerChange(server_id, label, "; ".join(tag_lines)))
        if old.launch is not None and new.launch is not None:
            launch_compared = True
            launch_lines = _differences(old.launch, new.launch, "")
            if launch_lines:
                launch.append(ServerChange(server_id, label, "; ".join(x.strip() for x in launch_lines)))
    return ChangeSet(
        added=added,
        removed=removed,
        retagged=tuple(retagged),
        launch_changed=tuple(launch),
        tags_compared=drill_baseline is not None,
        launch_compared=launch_compared,
    )
