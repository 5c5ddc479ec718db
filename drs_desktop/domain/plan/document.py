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
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drs_desktop.domain.errors import PlanDocumentError
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
FORMAT_VERSION = 1
FORMAT_ID = f"{FORMAT_NAME}@{FORMAT_VERSION}"

PLAN_KEYS = ("format", "name", "description", "rto_minutes", "rpo_minutes", "protection_groups", "waves")
GROUP_KEYS = ("name", "servers", "tags")
WAVE_KEYS = ("name", "groups", "servers", "optional", "depends_on", "before", "after")
STEP_KEYS = ("approval", "wait_minutes")

__all__ = [
    "FORMAT_ID",
    "AmbiguousNumber",
    "PlanDocumentError",
    "join_path",
    "plan_from_document",
    "plan_to_document",
    "quote",
    "type_name",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMAT_RE = re.compile(r"^drs-desktop/plan@([0-9]{1,9})$")
_SHORT = 60


@dataclass(frozen=True, repr=False)
class AmbiguousNumber:
    """A number written in a notation other than plain decimal digits: ``017``, ``0x1F``, ``1_000``, ``+5``,
    ``1:30``. YAML 1.1 readers (PyYAML among them) read ``017`` as octal 15 and ``1:30`` as 90 (base 60),
    YAML 1.2 readers as 17 and a string: a plan that means different things to different tools must not
    be read silently, so the YAML loader hands these over as this type and the document reader refuses
    them, naming the field and the literal. ``yaml11`` is what YAML 1.1 makes of ``text``.
    """

    text: str
    yaml11: int

    def __repr__(self) -> str:
        return self.text

    def problem(self) -> str:
        """Why the literal is refused where a number of minutes is expected, and what to write."""
        text, value = self.text, self.yaml11
        digits = text.lstrip("+-")
        if ":" in text:
            return f"{text} is a base-60 number to YAML 1.1 ({value}); write plain digits: {value}"
        if digits[:2].lower() in ("0x", "0b"):
            kind = "hexadecimal" if digits[:2].lower() == "0x" else "binary"
            return f"{text} is a {kind} number ({value}); write minutes as plain decimal digits: {value}"
        if len(digits) > 1 and digits.startswith("0"):
            decimal = digits.replace("_", "").lstrip("0") or "0"
            return (
                f"{text} has a leading zero: YAML 1.1 reads it as octal {value}, other readers as {decimal}; "
                "write the number without leading zeros"
            )
        if "_" in text:
            return f"{text} holds digit separators (_), which YAML 1.1 drops ({value}); write {value}"
        return f"{text} is not written as plain decimal digits (YAML 1.1 reads it as {value}); write {value}"


def join_path(base: str, key: str | int) -> str:
    """The field path of ``key`` inside ``base``: ``waves[2]``, ``waves[2].servers``, ``tags["a:b"]``.

    Keys that are not plain identifiers (tag keys such as ``aws:cloudformation:stack-name``) are quoted in
    brackets so that a path always stays one unambiguous line.
    """
    if isinstance(key, int):
        return f"{base}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{base}.{key}" if base else key
    shown = json.dumps(key, ensure_ascii=True)
    if len(shown) > _SHORT:
        shown = shown[: _SHORT - 4] + '..."'
    return f"{base}[{shown}]"


def quote(value: object) -> str:
    """A short, one-line, quoted rendering of ``value`` for messages (long values are cut)."""
    text = repr(value)
    if len(text) > _SHORT:
        text = text[: _SHORT - 3] + "..."
    return text.replace("\n", "\\n").replace("\r", "\\r")


def type_name(value: object) -> str:
    """How a value's type reads in a message ("a string", "a list", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, bytes):
        return "binary data"
    if isinstance(value, AmbiguousNumber):
        return f"{value.text}, which YAML 1.1 reads as the number {value.yaml11}"
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------- export


def plan_to_document(plan: RecoveryPlan) -> dict[str, Any]:
    """The canonical document of ``plan``; ``plan_from_document`` gives back an equal plan."""
    doc: dict[str, Any] = {"format": FORMAT_ID, "name": plan.name}
    if plan.description:
        doc["description"] = plan.description
    if plan.rto_minutes is not None:
        doc["rto_minutes"] = plan.rto_minutes
    if plan.rpo_minutes is not None:
        doc["rpo_minutes"] = plan.rpo_minutes
    if plan.protection_groups:
        doc["protection_groups"] = [_group_to_document(group) for group in plan.protection_groups]
    doc["waves"] = [_wave_to_document(wave) for wave in plan.waves]
    return doc


def _group_to_document(group: ProtectionGroup) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": group.name}
    # A group with neither (invalid, but it must round-trip) is written as ``servers: []``.
    if group.server_ids or group.tags is None:
        doc["servers"] = list(group.server_ids)
    if group.tags is not None:
        doc["tags"] = dict(group.tags)
    return doc


def _wave_to_document(wave: Wave) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": wave.name}
    if wave.groups:
        doc["groups"] = list(wave.groups)
    if wave.servers:
        doc["servers"] = list(wave.servers)
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
    return {"wait_minutes": step.minutes}


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


class _Reader:
    """Walks a document along the fixed schema, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # -- shapes

    def mapping(
        self, value: object, path: str, allowed: tuple[str, ...], required: tuple[str, ...], what: str
    ) -> dict[str, Any] | None:
        """``value`` as a mapping with only ``allowed`` string keys; None (and a problem) if not a mapping.

        Unknown and non-string keys are reported and left out of the result, so the caller can keep
        checking the known fields.
        """
        if not isinstance(value, Mapping):
            self.add(path, f"{what} must be a mapping, got {type_name(value)}")
            return None
        known: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self.add(path, f"keys must be strings, got {type_name(key)} {quote(key)}")
            elif key not in allowed:
                self.add(join_path(path, key), _unknown_key_message(key, allowed))
            else:
                known[key] = item
        for key in required:
            if known.get(key) is None:
                if key in value:
                    self.add(join_path(path, key), "must not be empty")
                else:
                    self.add(path, f"missing required key {key!r}")
        return known

    def string(self, value: object, path: str) -> str | None:
        if isinstance(value, str):
            # JSON's "\ud800" escape gives a lone surrogate, which no UTF-8 file or database can hold.
            problem = surrogate_problem(value)
            if problem is None:
                return value
            self.add(path, problem)
            return None
        quotable = isinstance(value, int | float | bool | AmbiguousNumber) or value is None
        hint = " (put it in quotes)" if quotable else ""
        self.add(path, f"must be a string, got {type_name(value)}{hint}")
        return None

    def integer(self, value: object, path: str) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, AmbiguousNumber):
            self.add(path, value.problem())
        elif isinstance(value, str):
            self.add(path, f"must be a whole number of minutes, got a string ({quote(value)})")
        else:
            self.add(path, f"must be a whole number of minutes, got {type_name(value)}")
        return None

    def string_list(self, value: object, path: str, what: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            self.add(path, f"must be a list of {what}, got {type_name(value)}")
            return ()
        items: list[str] = []
        for index, item in enumerate(value):
            text = self.string(item, join_path(path, index))
            if text is not None:
                items.append(text)
        return tuple(items)

    def list_of(self, value: object, path: str, what: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            self.add(path, f"must be a list of {what}, got {type_name(value)}")
            return []
        return list(value)

    # -- schema

    def plan(self, doc: object) -> RecoveryPlan | None:
        if not isinstance(doc, Mapping):
            self.add("", f"a plan document must be a mapping, got {type_name(doc)}")
            return None
        if not self.format(doc):
            return None  # not our format: any other complaint would be noise
        fields = self.mapping(doc, "", PLAN_KEYS, ("name",), "a plan")
        if fields is None:
            return None
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
        return RecoveryPlan(
            name=name or "",
            description=description,
            rto_minutes=rto,
            rpo_minutes=rpo,
            protection_groups=groups,
            waves=waves,
        )

    def format(self, doc: Mapping[Any, Any]) -> bool:
        """False when ``format`` names another format or a newer version (nothing else is checked then)."""
        value = doc.get("format")
        if "format" not in doc or value is None:
            self.add("", f"missing required key 'format' (this version reads format: {FORMAT_ID})")
            return True
        if value == FORMAT_ID:
            return True
        match = _FORMAT_RE.match(value) if isinstance(value, str) else None
        if match and int(match.group(1)) > FORMAT_VERSION:
            self.add(
                "format",
                f"{value} was written by a newer DRS Desktop; this version reads {FORMAT_ID} only",
            )
        else:
            self.add("format", f"unsupported format {quote(value)}; expected {FORMAT_ID}")
        return False

    def group(self, value: object, path: str) -> ProtectionGroup | None:
        fields = self.mapping(value, path, GROUP_KEYS, ("name",), "a protection group")
        if fields is None:
            return None
        name = (
            self.string(fields["name"], join_path(path, "name")) if fields.get("name") is not None else None
        )
        servers = self.string_list(fields.get("servers"), join_path(path, "servers"), "source server IDs")
        tags: dict[str, str] | None = None
        if fields.get("tags") is not None:
            tags = self.tags(fields["tags"], join_path(path, "tags"))
        return ProtectionGroup(name=name or "", server_ids=servers, tags=tags)

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
        fields = self.mapping(value, path, WAVE_KEYS, ("name",), "a wave")
        if fields is None:
            return None
        name = (
            self.string(fields["name"], join_path(path, "name")) if fields.get("name") is not None else None
        )
        groups = self.string_list(fields.get("groups"), join_path(path, "groups"), "protection group names")
        servers = self.string_list(fields.get("servers"), join_path(path, "servers"), "source server IDs")
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
        if not isinstance(value, Mapping):
            self.add(path, f"{shape}, got {type_name(value)}")
            return None
        if not value:
            self.add(path, f"{shape}, got an empty mapping")
            return None
        fields = self.mapping(value, path, STEP_KEYS, (), "a step")
        if not fields:
            return None  # its keys were all unknown, already reported
        if len(fields) > 1:
            self.add(path, "a step has exactly one of 'approval' or 'wait_minutes'; make them two steps")
            return None
        if "approval" in fields:
            message = self.string(fields["approval"], join_path(path, "approval"))
            return ApprovalStep(message) if message is not None else None
        minutes = self.integer(fields["wait_minutes"], join_path(path, "wait_minutes"))
        return WaitStep(minutes) if minutes is not None else None


def _unknown_key_message(key: str, allowed: tuple[str, ...]) -> str:
    lowered = {candidate.lower(): candidate for candidate in allowed}
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)
    hint = f" (did you mean {lowered[close[0]]!r}?)" if close else f" (expected one of: {', '.join(allowed)})"
    return f"unknown key {quote(key)}{hint}"
