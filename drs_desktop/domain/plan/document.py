"""The versioned document form of a recovery plan, shared by plan files and the database.

A document is plain JSON-ready data (dicts, lists, str, int) in the layout docs/plan-format.md describes.
``plan_to_document`` writes the canonical form: stable key order, optional empties left out, yet every
distinction the domain makes survives (``depends_on`` omitted means "the previous wave", ``[]`` means
"nothing"). ``plan_from_document`` is strict on purpose: an unknown key, a wrong type or a missing
``format`` is an error, because a typo silently dropped from a disaster-recovery plan is found on the
worst possible day. It reports every structural problem at once, each with the field path the operator
sees in the file, so that one round of fixes is enough.

This module checks structure only (shape and types), plus one thing no later step could survive: a lone
surrogate in a string (JSON's ``"\ud800"``), which cannot be encoded as UTF-8 for a file or the database.
Whether the plan makes sense (unknown servers, dependency order, empty waves, control characters in
names...) is ``domain.plan.validation``'s job.

Every version is read: format 1 exactly as before, format 2 with targets (``domain.plan.document_v2``
has its parts, and refuses the parts it only reserves) and launch settings
(``domain.plan.document_launch``), format 3 with automation steps (``domain.plan.document_automation``),
format 4 with the test brief and the cadence (``domain.plan.document_brief``).
A plan is written in the oldest version that holds it (``plan_to_document``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

from drs_desktop.domain.errors import PlanDocumentError
from drs_desktop.domain.plan.automation import AUTOMATION_STEPS
from drs_desktop.domain.plan.document_automation import automation_step_to_document, read_automation_step
from drs_desktop.domain.plan.document_base import (
    AmbiguousBoolean,
    AmbiguousNumber,
    ShapeReader,
    join_path,
    quote,
    type_name,
)
from drs_desktop.domain.plan.document_brief import (
    FORMAT_4_PARTS,
    brief_to_document,
    cadence_to_document,
    format_4_key_message,
    read_brief,
    read_cadence,
    refused_parts,
    uses_format_4,
)
from drs_desktop.domain.plan.document_drill import drill_profile_to_document, read_drill_profile
from drs_desktop.domain.plan.document_launch import launch_settings_to_document, read_launch_settings
from drs_desktop.domain.plan.document_v2 import (
    RESERVED_PLAN_PARTS,
    RESERVED_STEP_KINDS,
    automation_step_refusal,
    read_targets,
    read_wave_servers,
    secret_key_message,
    targets_to_document,
    uses_format_2,
    wave_servers_to_document,
)
from drs_desktop.domain.plan.model import (
    ApprovalStep,
    ProtectionGroup,
    RecoveryPlan,
    Step,
    WaitStep,
    Wave,
)
from drs_desktop.domain.safe_text import surrogate_problem

logger = logging.getLogger(__name__)

FORMAT_NAME = "drs-desktop/plan"
#: The newest version this DRS Desktop reads (and writes, for a plan that needs it).
FORMAT_VERSION = 4
FORMAT_V1 = f"{FORMAT_NAME}@1"
FORMAT_V2 = f"{FORMAT_NAME}@2"
FORMAT_V3 = f"{FORMAT_NAME}@3"
FORMAT_V4 = f"{FORMAT_NAME}@4"
#: Version 1's identifier, what a plan that uses nothing of version 2 is written as.
FORMAT_ID = FORMAT_V1
FORMATS = (FORMAT_V1, FORMAT_V2, FORMAT_V3, FORMAT_V4)

PLAN_KEYS = ("format", "name", "description", "rto_minutes", "rpo_minutes", "protection_groups", "waves")
GROUP_KEYS = ("name", "servers", "tags")
WAVE_KEYS = ("name", "groups", "servers", "optional", "depends_on", "before", "after")
STEP_KEYS = ("approval", "wait_minutes")
# Format 2, in the canonical order; reserved parts have their place but are refused when present.
PLAN_KEYS_V2 = (
    "format",
    "name",
    "description",
    "rto_minutes",
    "rpo_minutes",
    "targets",
    "protection_groups",
    "waves",
    "launch_settings",
    "drill_profile",
    "objectives",
    "cadence",
    *RESERVED_PLAN_PARTS,
)
# Format 4: the test brief and the cadence after the drill profile (``domain.plan.document_brief``).
PLAN_KEYS_V4 = (
    *PLAN_KEYS_V2[: PLAN_KEYS_V2.index("drill_profile") + 1],
    *FORMAT_4_PARTS,
    "objectives",
    *RESERVED_PLAN_PARTS,
)
GROUP_KEYS_V2 = ("name", "target", "servers", "tags")
WAVE_KEYS_V2 = ("name", "target", "groups", "servers", "optional", "depends_on", "before", "after")
STEP_KEYS_V2 = (*STEP_KEYS, *RESERVED_STEP_KINDS)

__all__ = [
    "FORMATS",
    "FORMAT_ID",
    "FORMAT_V1",
    "FORMAT_V2",
    "FORMAT_V3",
    "FORMAT_V4",
    "AmbiguousBoolean",
    "AmbiguousNumber",
    "PlanDocumentError",
    "join_path",
    "plan_from_document",
    "plan_to_document",
    "quote",
    "type_name",
]

_FORMAT_RE = re.compile(r"^drs-desktop/plan@([0-9]{1,9})$")

# --------------------------------------------------------------------------------------------- export


def plan_to_document(plan: RecoveryPlan) -> dict[str, Any]:
    """The canonical document of ``plan``; ``plan_from_document`` gives back an equal plan.

    Written in the oldest version that holds the plan: format 1 while it uses nothing of format 2, so
    that a format-1 plan keeps its document (and its content hash) byte for byte; format 2 once it
    declares or names a target; format 3 once a wave has an automation step; format 4 once it has a
    test brief or a cadence.
    """
    doc: dict[str, Any] = {"format": _format_of(plan), "name": plan.name}
    if plan.description:
        doc["description"] = plan.description
    if plan.rto_minutes is not None:
        doc["rto_minutes"] = plan.rto_minutes
    if plan.rpo_minutes is not None:
        doc["rpo_minutes"] = plan.rpo_minutes
    if plan.targets:
        doc["targets"] = targets_to_document(plan.targets)
    if plan.protection_groups:
        doc["protection_groups"] = [_group_to_document(group) for group in plan.protection_groups]
    doc["waves"] = [_wave_to_document(wave) for wave in plan.waves]
    launch = launch_settings_to_document(plan)
    if launch is not None:
        doc["launch_settings"] = launch
    drill = drill_profile_to_document(plan)
    if drill is not None:
        doc["drill_profile"] = drill
    brief = brief_to_document(plan.brief)
    if brief is not None:
        doc["test"] = brief
    cadence = cadence_to_document(plan.cadence)
    if cadence is not None:
        doc["cadence"] = cadence
    return doc


def uses_format_3(plan: RecoveryPlan) -> bool:
    """Whether ``plan`` needs format 3 to be written: a wave has an automation step."""
    return any(
        isinstance(step, AUTOMATION_STEPS) for wave in plan.waves for step in (*wave.before, *wave.after)
    )


def _format_of(plan: RecoveryPlan) -> str:
    if uses_format_4(plan):
        return FORMAT_V4
    if uses_format_3(plan):
        return FORMAT_V3
    return FORMAT_V2 if uses_format_2(plan) else FORMAT_V1


def _group_to_document(group: ProtectionGroup) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": group.name}
    if group.target is not None:
        doc["target"] = group.target
    # A group with neither (invalid, but it must round-trip) is written as ``servers: []``.
    if group.server_ids or group.tags is None:
        doc["servers"] = list(group.server_ids)
    if group.tags is not None:
        doc["tags"] = dict(group.tags)
    return doc


def _wave_to_document(wave: Wave) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": wave.name}
    if wave.target is not None:
        doc["target"] = wave.target
    if wave.groups:
        doc["groups"] = list(wave.groups)
    if wave.servers:
        doc["servers"] = wave_servers_to_document(wave.servers, wave.server_targets)
    if wave.optional:
        doc["optional"] = list(wave.optional)
    if wave.depends_on is not None:
        doc["depends_on"] = list(wave.depends_on)
    if wave.before:
        doc["before"] = [_step_to_document(step) for step in wave.before]
    if wave.after:
        doc["after"] = [_step_to_document(step) for step in wave.after]
    return doc


def _step_to_document(step: Step) -> dict[str, Any]:
    if isinstance(step, ApprovalStep):
        return {"approval": step.message}
    if isinstance(step, WaitStep):
        return {"wait_minutes": step.minutes}
    return automation_step_to_document(step)


# --------------------------------------------------------------------------------------------- import


def plan_from_document(doc: object) -> RecoveryPlan:
    """The plan a document describes; raises ``PlanDocumentError`` listing every structural problem.

    A ``null`` value is the same as leaving an optional key out, except for ``depends_on``, where the
    two readings ("previous wave" and "nothing") differ too much to guess.
    """
    reader = _Reader()
    plan = reader.plan(doc)
    if reader.problems or plan is None:
        raise PlanDocumentError(reader.problems or [("", "not a plan document")])
    return plan


class _Reader(ShapeReader):
    """Walks a document along the fixed schema, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        super().__init__()
        self.version = FORMAT_VERSION

    # -- schema

    def plan(self, doc: object) -> RecoveryPlan | None:
        if not isinstance(doc, Mapping):
            self.add("", f"a plan document must be a mapping, got {type_name(doc)}")
            return None
        if not self.format(doc):
            return None  # not our format: any other complaint would be noise
        keys = PLAN_KEYS_V4 if self.version >= 4 else PLAN_KEYS_V2 if self.version >= 2 else PLAN_KEYS
        fields = self.mapping(doc, "", keys, ("name",), "a plan", self.unknown_plan_key)
        if fields is None:
            return None
        for key, part in RESERVED_PLAN_PARTS.items():
            if fields.get(key) is not None:
                self.add(key, part.refusal(key))
        for key in refused_parts(self.version):
            if fields.get(key) is not None:
                self.add(key, format_4_key_message(key, self.version) or f"{key!r} is refused")
        targets = read_targets(self, fields.get("targets"))
        name = self.string(fields["name"], "name") if fields.get("name") is not None else None
        description = ""
        if fields.get("description") is not None:
            description = self.string(fields["description"], "description") or ""
        rto = (
            self.integer(fields["rto_minutes"], "rto_minutes")
            if fields.get("rto_minutes") is not None
            else None
        )
        rpo = (
            self.integer(fields["rpo_minutes"], "rpo_minutes")
            if fields.get("rpo_minutes") is not None
            else None
        )
        groups = tuple(
            group
            for index, item in enumerate(
                self.list_of(fields.get("protection_groups"), "protection_groups", "protection groups")
            )
            if (group := self.group(item, join_path("protection_groups", index))) is not None
        )
        waves = tuple(
            wave
            for index, item in enumerate(self.list_of(fields.get("waves"), "waves", "waves"))
            if (wave := self.wave(item, join_path("waves", index))) is not None
        )
        launch, groups = read_launch_settings(self, fields.get("launch_settings"), groups)
        drill = read_drill_profile(self, fields.get("drill_profile"))
        return RecoveryPlan(
            name=name or "",
            description=description,
            rto_minutes=rto,
            rpo_minutes=rpo,
            protection_groups=groups,
            waves=waves,
            targets=targets,
            launch_settings=launch,
            drill_profile=drill,
            brief=read_brief(self, fields.get("test")),  # never a key of an older file: refused above
            cadence=read_cadence(self, fields.get("cadence") if self.version >= 4 else None),
        )

    def unknown_plan_key(self, key: str) -> str | None:
        """A better message than "unknown key" for a secret, or a format-2 key in a format-1 file."""
        return self.secret(key) or format_4_key_message(key, self.version) or self.newer(key, PLAN_KEYS_V2)

    def secret(self, key: str) -> str | None:
        return secret_key_message(key)

    def format_3_key(self, key: str) -> str:
        """An automation step (``kind``) in a file of format 1 or 2."""
        return f"{quote(key)} is a key of format 3 (automation steps): write format: {FORMAT_V3} to use it"

    def newer(self, key: str, v2_keys: tuple[str, ...]) -> str | None:
        if self.version >= 2 or key not in v2_keys:
            return None
        return f"{quote(key)} is a key of format 2: write format: {FORMAT_V2} to use it"

    def format(self, doc: Mapping[Any, Any]) -> bool:
        """False when ``format`` names another format or a newer version (nothing else is checked then).

        Sets ``version`` to the version the document is read as (the newest when ``format`` is missing,
        so that the rest is checked as fully as it can be)."""
        value = doc.get("format")
        readable = f"{', '.join(FORMATS[:-1])} or {FORMATS[-1]}"
        if "format" not in doc or value is None:
            self.add("", f"missing required key 'format' (this version reads format: {readable})")
            return True
        if value in FORMATS:
            self.version = FORMATS.index(value) + 1
            return True
        match = _FORMAT_RE.match(value) if isinstance(value, str) else None
        if match and int(match.group(1)) > FORMAT_VERSION:
            self.add(
                "format",
                f"{value} was written by a newer DRS Desktop; this version reads {readable} only",
            )
        else:
            self.add("format", f"unsupported format {quote(value)}; expected {readable}")
        return False

    def group(self, value: object, path: str) -> ProtectionGroup | None:
        keys = GROUP_KEYS_V2 if self.version >= 2 else GROUP_KEYS
        unknown = partial(self.newer, v2_keys=GROUP_KEYS_V2)
        fields = self.mapping(value, path, keys, ("name",), "a protection group", unknown)
        if fields is None:
            return None
        name = (
            self.string(fields["name"], join_path(path, "name")) if fields.get("name") is not None else None
        )
        servers = self.string_list(fields.get("servers"), join_path(path, "servers"), "source server IDs")
        tags: dict[str, str] | None = None
        if fields.get("tags") is not None:
            tags = self.tags(fields["tags"], join_path(path, "tags"))
        target = self.optional_string(fields, "target", path)
        return ProtectionGroup(name=name or "", server_ids=servers, tags=tags, target=target)

    def optional_string(self, fields: Mapping[str, Any], key: str, path: str) -> str | None:
        if fields.get(key) is None:
            return None
        return self.string(fields[key], join_path(path, key))

    def tags(self, value: object, path: str) -> dict[str, str]:
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping of tag names to values, got {type_name(value)}")
            return {}
        tags: dict[str, str] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(
                    path, f"tag names must be strings, got {type_name(key)} {quote(key)} (put it in quotes)"
                )
                continue
            problem = surrogate_problem(key)
            if problem is not None:
                self.add(join_path(path, key), problem)
            text = self.string(item, join_path(path, key))
            if text is not None and problem is None:
                tags[key] = text
        return tags

    def wave(self, value: object, path: str) -> Wave | None:
        keys = WAVE_KEYS_V2 if self.version >= 2 else WAVE_KEYS
        fields = self.mapping(
            value, path, keys, ("name",), "a wave", partial(self.newer, v2_keys=WAVE_KEYS_V2)
        )
        if fields is None:
            return None
        name = (
            self.string(fields["name"], join_path(path, "name")) if fields.get("name") is not None else None
        )
        groups = self.string_list(fields.get("groups"), join_path(path, "groups"), "protection group names")
        servers, server_targets = read_wave_servers(
            self, fields.get("servers"), join_path(path, "servers"), entries_allowed=self.version >= 2
        )
        optional = self.string_list(fields.get("optional"), join_path(path, "optional"), "source server IDs")
        depends_on: tuple[str, ...] | None = None
        if "depends_on" in fields:
            if fields["depends_on"] is None:
                self.add(
                    join_path(path, "depends_on"),
                    "is empty; write [] for no dependencies, or leave the key out for the previous wave",
                )
            else:
                depends_on = self.string_list(
                    fields["depends_on"], join_path(path, "depends_on"), "wave names"
                )
        return Wave(
            name=name or "",
            groups=groups,
            servers=servers,
            optional=optional,
            depends_on=depends_on,
            before=self.steps(fields.get("before"), join_path(path, "before")),
            after=self.steps(fields.get("after"), join_path(path, "after")),
            target=self.optional_string(fields, "target", path),
            server_targets=server_targets,
        )

    def steps(self, value: object, path: str) -> tuple[Step, ...]:
        steps: list[Step] = []
        for index, item in enumerate(self.list_of(value, path, "steps")):
            step = self.step(item, join_path(path, index))
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def step(self, value: object, path: str) -> Step | None:
        shape = "a step must be {approval: message} or {wait_minutes: N}"
        if self.version >= 3:
            shape = "a step must be {approval: message}, {wait_minutes: N} or {kind: KIND, name: NAME, ...}"
        if not isinstance(value, Mapping):
            self.add(path, f"{shape}, got {type_name(value)}")
            return None
        if not value:
            self.add(path, f"{shape}, got an empty mapping")
            return None
        if "kind" in value:
            if self.version >= 3:
                return read_automation_step(self, value, path)
            self.add(join_path(path, "kind"), self.format_3_key("kind"))
            return None
        # Format 2's reserved automation keys are allowed through in every version, to be refused below
        # with how format 3 writes them (never "a key of format 2", which would only lead to that refusal).
        fields = self.mapping(value, path, STEP_KEYS_V2, (), "a step")
        if not fields:
            return None  # its keys were all unknown, already reported
        reserved = [key for key in fields if key in RESERVED_STEP_KINDS]
        if reserved:
            for key in reserved:
                self.add(join_path(path, key), automation_step_refusal(key))
            return None
        if len(fields) > 1:
            self.add(path, "a step has exactly one of 'approval' or 'wait_minutes'; make them two steps")
            return None
        if "approval" in fields:
            message = self.string(fields["approval"], join_path(path, "approval"))
            return ApprovalStep(message) if message is not None else None
        minutes = self.integer(fields["wait_minutes"], join_path(path, "wait_minutes"))
        return WaitStep(minutes) if minutes is not None else None
