"""Validation problems worded as the operator sees the plan: "Wave 2 'Web tier', server web-01".

``Problem.path`` is the plan file's field path (``waves[1].servers[0]``): right for a plan file, where
the operator counts from the top of the document, and kept so for the CLI and file imports. The editor
shows waves by number and name and servers by hostname, so it words problems with ``problem_text``,
which turns the path into that place and rewrites the paths a message quotes (``(waves[0])`` in
"duplicate wave name") the same way. Pure, stdlib only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from drs_desktop.domain.plan.document import quote
from drs_desktop.domain.plan.model import RecoveryPlan
from drs_desktop.domain.plan.validation import Problem, Severity
from drs_desktop.domain.plan.validation_brief import place_of_brief

logger = logging.getLogger(__name__)

_TOP_FIELDS = {
    "name": "Plan name",
    "description": "Plan description",
    "rto_minutes": "RTO target",
    "rpo_minutes": "RPO target",
    "waves": "Waves",
    "protection_groups": "Protection groups",
}
_WAVE = re.compile(r"^waves\[(\d+)\](.*)$")
_GROUP = re.compile(r"^protection_groups\[(\d+)\](.*)$")
_ITEM = re.compile(r"^\.(servers|groups|optional|depends_on|before|after)\[(\d+)\](.*)$")
_LAUNCH = re.compile(
    r"^launch_settings(?:\.groups\[(\d+)\])?(?:\.(defaults)|\.overrides\[(\d+)\])?\.?([a-z_]*)"
)
_QUOTED_PATH = re.compile(r"\((waves|protection_groups)\[(\d+)\]\)")


def wave_label(plan: RecoveryPlan, index: int) -> str:
    """ "Wave 2 'Web tier'" (1-based, as the tree shows it); "Wave 2" when that is already its name."""
    number = f"Wave {index + 1}"
    if not 0 <= index < len(plan.waves):
        return number
    name = plan.waves[index].name
    return number if name == number else f"{number} {quote(name)}"


def server_label(server_id: str, hostnames: Mapping[str, str]) -> str:
    """ "web-01 (s-...)" when the inventory knows the server's hostname, else its ID."""
    hostname = hostnames.get(server_id, "")
    return f"{hostname} ({server_id})" if hostname else server_id


def place_of(path: str, plan: RecoveryPlan, hostnames: Mapping[str, str] | None = None) -> str:
    """Where ``path`` is in the operator's words; "" for the plan as a whole."""
    names = hostnames or {}
    if not path:
        return ""
    match = _WAVE.match(path)
    if match is not None:
        index, rest = int(match.group(1)), match.group(2)
        wave = plan.waves[index] if index < len(plan.waves) else None
        where = wave_label(plan, index)
        item = _ITEM.match(rest)
        if item is None or wave is None:
            return f"{where}, name" if rest == ".name" else where
        kind, position = item.group(1), int(item.group(2))
        entries: tuple[object, ...] = getattr(wave, kind) or ()
        value = entries[position] if position < len(entries) else None
        if kind in ("servers", "optional") and isinstance(value, str):
            prefix = "optional server" if kind == "optional" else "server"
            return f"{where}, {prefix} {server_label(value, names)}"
        if kind == "groups" and isinstance(value, str):
            return f"{where}, group {quote(value)}"
        if kind == "depends_on":
            return f"{where}, dependencies"
        if kind in ("before", "after"):
            return f"{where}, step {position + 1} {kind} the wave"
        return where
    match = _GROUP.match(path)
    if match is not None:
        index = int(match.group(1))
        groups = plan.protection_groups
        where = (
            f"Protection group {quote(groups[index].name)}"
            if index < len(groups) and groups[index].name
            else f"Protection group {index + 1}"
        )
        rest = match.group(2)
        server = re.match(r"^\.servers\[(\d+)\]", rest)
        if (
            server is not None
            and index < len(groups)
            and int(server.group(1)) < len(groups[index].server_ids)
        ):
            return f"{where}, server {server_label(groups[index].server_ids[int(server.group(1))], names)}"
        return f"{where}, tags" if rest.startswith(".tags") else where
    match = _LAUNCH.match(path)
    if match is not None:
        return _launch_place(plan, match)
    return place_of_brief(path) or _TOP_FIELDS.get(path, path)


def _launch_place(plan: RecoveryPlan, match: re.Match[str]) -> str:
    """ "Launch settings, group 'db', override 2, instance type" for a path in the launch settings."""
    parts = ["Launch settings"]
    if match.group(1) is not None:
        entry = int(match.group(1))
        with_settings = [g for g in plan.protection_groups if not g.launch_settings.is_empty()]
        name = with_settings[entry].name if entry < len(with_settings) else ""
        parts.append(f"group {quote(name)}" if name else f"group entry {entry + 1}")
    if match.group(2):
        parts.append("defaults")
    elif match.group(3) is not None:
        parts.append(f"override {int(match.group(3)) + 1}")
    if match.group(4) and match.group(4) not in ("groups", "group", "overrides", "defaults"):
        parts.append(match.group(4).replace("_", " "))
    return ", ".join(parts)


def problem_text(problem: Problem, plan: RecoveryPlan, hostnames: Mapping[str, str] | None = None) -> str:
    """The problem as the editor lists it: "Wave 2 'Databases': the wave is empty"."""
    place = place_of(problem.path, plan, hostnames)

    def named(found: re.Match[str]) -> str:
        index = int(found.group(2))
        if found.group(1) == "waves":
            return f"({wave_label(plan, index)})"
        return f"({place_of(found.group(0)[1:-1], plan, hostnames)})"

    message = _QUOTED_PATH.sub(named, problem.message)
    prefix = "warning: " if problem.severity is Severity.WARNING else ""
    return f"{prefix}{place}: {message}" if place else f"{prefix}{message}"
