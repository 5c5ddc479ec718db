"""The parts plan format 2 (``drs-desktop/plan@2``) adds to the document, and the parts it reserves.

Format 2 was designed once for everything later issues add to a plan (docs/plan-format.md, "Format 2"):
targets (read and written here), desired launch settings (``domain.plan.document_launch``), and places
reserved for automation steps (format 3 writes them otherwise: ``automation_step_refusal``), a drill
profile, test objectives and a cadence (format 4 reads them: ``domain.plan.document_brief``) and
alerts. A reserved part
that this DRS Desktop does not read yet is refused with its name and the release that reads it, never
dropped: a plan read without it and exported again would silently lose it.

Structure only, like ``domain.plan.document``; what the values mean (account digits, ARNs, references)
is ``domain.plan.validation_targets``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drs_desktop.domain.plan.document_base import ShapeReader, join_path, quote, type_name
from drs_desktop.domain.plan.document_launch import uses_launch_settings
from drs_desktop.domain.plan.model import PlanTarget, RecoveryPlan

__all__ = [
    "RESERVED_PLAN_PARTS",
    "RESERVED_STEP_KINDS",
    "TARGET_KEYS",
    "ReservedPart",
    "automation_step_refusal",
    "read_targets",
    "read_wave_servers",
    "secret_key_message",
    "targets_to_document",
    "uses_format_2",
    "wave_servers_to_document",
]

TARGET_KEYS = (
    "name",
    "account",
    "region",
    "profile",
    "role_arn",
    "source_profile",
    "external_id",
    "mfa_serial",
)
ENTRY_KEYS = ("id", "target")

#: Key names that hold a credential in AWS's files and SDKs, or that only a secret would be called.
_SECRET_KEY = re.compile(
    r"secret|password|passwd|passphrase|token|credential|access_?key|private_?key|session_?key", re.IGNORECASE
)


@dataclass(frozen=True)
class ReservedPart:
    """A part of format 2 whose place is fixed but which this DRS Desktop does not read yet."""

    what: str
    release: str

    def refusal(self, key: str) -> str:
        return (
            f"{key!r} ({self.what}) has its place in drs-desktop/plan@2, but only the DRS Desktop release "
            f"that brings {self.release} reads it; this version refuses the file rather than drop it "
            "(exporting the plan again would lose it)"
        )


#: Format 2 also reserved ``objectives`` and ``cadence``: format 4 filled them (the ``test`` block and the
#: ``cadence`` block, ``domain.plan.document_brief``), which refuses them in older files in its own words.
RESERVED_PLAN_PARTS: dict[str, ReservedPart] = {
    "alerts": ReservedPart("alerts", "alerts outside the app"),
}
#: The places format 2 reserved for automation steps (``{health_check: {...}}``), and the ``kind`` each
#: became in format 3, which writes them ``{kind: ..., name: ...}`` (``domain.plan.document_automation``).
RESERVED_STEP_KINDS: dict[str, str] = {
    "health_check": "health-check",
    "ssm_document": "ssm",
    "lambda_function": "lambda",
    "local_script": "script",
}


def automation_step_refusal(key: str) -> str:
    """Why ``{health_check: {...}}`` (format 2's reserved shape) is refused, and how to write it now."""
    return (
        f"{key!r} was format 2's reserved place for an automation step; automation steps are written "
        f"{{kind: {RESERVED_STEP_KINDS[key]}, name: NAME, ...}} in format: drs-desktop/plan@3"
    )


def secret_key_message(key: str) -> str | None:
    """Why ``key`` is refused when it looks like it holds a secret, else None."""
    if not _SECRET_KEY.search(key):
        return None
    return (
        f"{quote(key)} looks like a secret, and a plan file never holds one (it is exported, shared and "
        "kept in version control): keep credentials in the AWS profile, and name the profile or the role here"
    )


def uses_format_2(plan: RecoveryPlan) -> bool:
    """Whether ``plan`` needs format 2 to be written: it declares or names a target, or desires launch
    settings."""
    if plan.targets or uses_launch_settings(plan) or plan.drill_profile is not None:
        return True
    if any(group.target is not None for group in plan.protection_groups):
        return True
    return any(wave.target is not None or wave.server_targets for wave in plan.waves)


# ------------------------------------------------------------------------------------------- export


def targets_to_document(targets: tuple[PlanTarget, ...]) -> list[dict[str, str]]:
    """Each target with name, account and region always (even blank: an invalid plan round-trips too),
    and only the ways of reaching it that are set."""
    documents: list[dict[str, str]] = []
    for target in targets:
        doc = {"name": target.name, "account": target.account, "region": target.region}
        for key in TARGET_KEYS[3:]:
            value = getattr(target, key)
            if value:
                doc[key] = value
        documents.append(doc)
    return documents


def wave_servers_to_document(servers: tuple[str, ...], targets: Mapping[str, str]) -> list[Any]:
    """A wave's own servers: plain IDs, and ``{id, target}`` for those in another target."""
    return [{"id": s, "target": targets[s]} if s in targets else s for s in servers]


# ------------------------------------------------------------------------------------------- import


def read_targets(reader: ShapeReader, value: object) -> tuple[PlanTarget, ...]:
    targets: list[PlanTarget] = []
    for index, item in enumerate(reader.list_of(value, "targets", "targets")):
        path = join_path("targets", index)
        fields = reader.mapping(
            item, path, TARGET_KEYS, ("name", "account", "region"), "a target", secret_key_message
        )
        if fields is None:
            continue
        values: dict[str, str] = {}
        for key in TARGET_KEYS:
            if fields.get(key) is not None:
                text = reader.string(fields[key], join_path(path, key))
                if text is not None:
                    values[key] = text
        targets.append(PlanTarget(**{"name": "", **values}))
    return tuple(targets)


def read_wave_servers(
    reader: ShapeReader, value: object, path: str, *, entries_allowed: bool
) -> tuple[tuple[str, ...], dict[str, str]]:
    """A wave's ``servers``: IDs, and (format 2) ``{id, target}`` entries; returns the IDs in order and
    the targets the entries name."""
    if value is None:
        return (), {}
    if not isinstance(value, list | tuple):
        reader.add(path, f"must be a list of source server IDs, got {type_name(value)}")
        return (), {}
    servers: list[str] = []
    targets: dict[str, str] = {}
    for index, item in enumerate(value):
        item_path = join_path(path, index)
        if isinstance(item, Mapping) and entries_allowed:
            fields = reader.mapping(item, item_path, ENTRY_KEYS, ENTRY_KEYS, "a server entry")
            if fields is None or fields.get("id") is None or fields.get("target") is None:
                continue
            server_id = reader.string(fields["id"], join_path(item_path, "id"))
            target = reader.string(fields["target"], join_path(item_path, "target"))
            if server_id is not None and target is not None:
                servers.append(server_id)
                targets[server_id] = target
            continue
        if isinstance(item, Mapping):
            reader.add(
                item_path,
                "a server in another target ({id, target}) needs format: drs-desktop/plan@2",
            )
            continue
        text = reader.string(item, item_path)
        if text is not None:
            servers.append(text)
    return tuple(servers), targets
