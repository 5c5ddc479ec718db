"""The application's list of targets (setting ``aws.targets``): the accounts and Regions it reads besides
the connected one.

An enterprise protects its servers from several staging accounts and Regions (DRS replicates at most
300 servers per account), so the Servers pane shows every target's servers. The connected target (the
settings' profile and Region, or the demo) is always the first one and is not stored here; this list
holds the others, each a ``PlanTarget``: the same shape and the same rules as a plan file's ``targets``
(``domain.plan.validation_targets``), so a target the settings accept is one a plan accepts. It is stored
as the JSON a plan file would hold (only the keys that have a value), never a secret.

Pure: the settings registry (``domain.settings``) validates with ``check_targets``, the settings page
shows ``field_problems`` at each field of its target dialog.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict

from drs_desktop.domain.plan.document_v2 import TARGET_KEYS
from drs_desktop.domain.plan.model import PlanTarget
from drs_desktop.domain.plan.validation_targets import targets_problems

__all__ = [
    "CONNECTED_NAME",
    "TARGETS_KEY",
    "TargetListError",
    "check_targets",
    "connected_plan_target",
    "field_problems",
    "reached_by",
    "targets_to_json",
]

TARGETS_KEY = "aws.targets"
#: The name the connected target goes by (in the Servers pane's Target column); no listed target may take it.
CONNECTED_NAME = "connected"
_PATH = re.compile(r"^targets\[(\d+)\](?:\.(\w+))?")


class TargetListError(ValueError):
    """A target list that does not hold: the first problem, with the target and field it is at."""

    def __init__(self, message: str, index: int | None = None, field: str = "") -> None:
        super().__init__(message)
        self.index = index
        self.field = field


def check_targets(value: object) -> tuple[PlanTarget, ...]:
    """``value`` (targets, or their JSON form: a list of objects) as validated targets; TargetListError
    naming the first problem ("target 2 (prod-eu), account: ..."), never quoting a credential."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TargetListError(f"must be a list of targets, got {type(value).__name__}")
    targets = tuple(_target(item, index) for index, item in enumerate(value))
    problems = _problems(targets)
    if problems:
        index, field, message = problems[0]
        return _raise(targets, index, field, message)
    return targets


def connected_plan_target(account: str, region: str, profile: str, *, typed_keys: bool) -> PlanTarget | None:
    """The connected target as a plan declares it once the plan editor adds servers of another target to
    a plan whose servers are in the connected one: named ``CONNECTED_NAME`` (the name the Servers pane's
    Target column gives it), its account and Region, reached through the settings' profile ("default"
    when the settings use the default profile, as the AWS CLI names it). None when a plan cannot name it:
    its account is not known yet (never read), or it signs with typed keys (a secret a plan never holds).
    """
    if typed_keys or not account or not region:
        return None
    return PlanTarget(CONNECTED_NAME, account=account, region=region, profile=profile or "default")


def targets_to_json(targets: object) -> list[dict[str, str]]:
    """What is stored: each target as a plan file writes it, only the keys that have a value."""
    assert isinstance(targets, tuple | list)
    return [{key: value for key, value in asdict(target).items() if value} for target in targets]


def field_problems(targets: Sequence[PlanTarget], index: int) -> dict[str, str]:
    """Field -> message of every problem of ``targets[index]`` (an entry being edited, in the list it
    would join); "" is a problem of the whole target (such as "give either profile or role_arn")."""
    found: dict[str, str] = {}
    for where, field, message in _problems(tuple(targets)):
        if where == index:
            found.setdefault(field, message)
    return found


def reached_by(target: PlanTarget) -> str:
    """How the target is reached, for a table cell: "profile prod" or "role Operator from ops"."""
    if target.role_arn:
        role = target.role_arn.rpartition("/")[2] or target.role_arn
        options = (("external ID", target.external_id), ("MFA", target.mfa_serial))
        extras = [word for word, value in options if value]
        how = f"role {role} from {target.source_profile or '?'}"
        return f"{how} ({', '.join(extras)})" if extras else how
    return f"profile {target.profile}" if target.profile else "?"


def _target(item: object, index: int) -> PlanTarget:
    if isinstance(item, PlanTarget):
        return item
    if not isinstance(item, Mapping):
        raise TargetListError(f"target {index + 1}: must be an object, got {type(item).__name__}", index)
    unknown = sorted(str(key) for key in item if key not in TARGET_KEYS)
    if unknown:
        raise TargetListError(f"target {index + 1}: unknown field {unknown[0]!r}", index)
    values: dict[str, str] = {}
    for key in TARGET_KEYS:
        value = item.get(key, "")
        if not isinstance(value, str):
            raise TargetListError(f"target {index + 1}, {key}: must be text", index, key)
        values[key] = value.strip()
    return PlanTarget(**values)


def _problems(targets: tuple[PlanTarget, ...]) -> list[tuple[int, str, str]]:
    """(target index, field, message): the plan rules, then the name the connected target goes by."""
    found: list[tuple[int, str, str]] = []
    for path, message in targets_problems(targets):
        match = _PATH.match(path)
        if match is not None:
            found.append((int(match.group(1)), match.group(2) or "", message))
    for index, target in enumerate(targets):
        if target.name.casefold() == CONNECTED_NAME:
            taken = f"{CONNECTED_NAME!r} is the connected target's name; choose another"
            found.append((index, "name", taken))
    return sorted(found, key=lambda problem: problem[0])


def _raise(targets: tuple[PlanTarget, ...], index: int, field: str, message: str) -> tuple[PlanTarget, ...]:
    name = targets[index].name if 0 <= index < len(targets) else ""
    shown = f" ({name})" if name and field != "name" else ""
    where = f"target {index + 1}{shown}" + (f", {field}" if field else "")
    raise TargetListError(f"{where}: {message}", index, field)
