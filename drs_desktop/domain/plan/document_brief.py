"""The test brief and the cadence in the plan file (format 4, ``drs-desktop/plan@4``): read and written.

Format 4 is format 3 plus two top-level blocks (docs/plan-format.md, "Format 4"), what an auditor asks of
every test and how often the plan must be tested (issue 18)::

    test:
      scenario: Loss of the primary site
      objectives: [Recover the payments estate in the DR Region, ...]
      success_criteria: [Payments API answers within the RTO, ...]
      participants: [DR lead, DBA on call]
    cadence:
      every_days: 90       # a good drill at least every 90 days
      retest_days: 30      # after a failed one, a good one within 30 days
      after_changes: true  # and again once the estate changed materially since the last good drill

Structure only, like ``domain.plan.document``: shapes and types. What the values mean (ranges, one-line
texts, how many) is ``domain.plan.validation_brief``'s job. Empty parts are left out when written, so a
plan without a brief and a cadence has no such blocks (and keeps the oldest format that holds it).
"""

from __future__ import annotations

from typing import Any

from drs_desktop.domain.plan.document_automation import read_integer
from drs_desktop.domain.plan.document_base import AmbiguousBoolean, ShapeReader, join_path, type_name
from drs_desktop.domain.plan.model import NO_BRIEF, NO_CADENCE, Cadence, RecoveryPlan, TestBrief

__all__ = [
    "BRIEF_KEYS",
    "BRIEF_PART",
    "CADENCE_KEYS",
    "CADENCE_PART",
    "FORMAT_4_PARTS",
    "brief_to_document",
    "cadence_to_document",
    "read_brief",
    "read_cadence",
    "refused_parts",
    "uses_format_4",
]

BRIEF_PART = "test"
CADENCE_PART = "cadence"
#: The keys of each block, in the order they are written.
BRIEF_KEYS = ("scenario", "objectives", "success_criteria", "participants")
CADENCE_KEYS = ("every_days", "retest_days", "after_changes")
#: The top-level parts format 4 adds, in the order they are written (after ``drill_profile``).
FORMAT_4_PARTS = (BRIEF_PART, CADENCE_PART)
FORMAT_V4 = "drs-desktop/plan@4"
#: Format 2 reserved a top-level ``objectives``; format 4 writes them in the ``test`` block instead.
OBJECTIVES_PLACE = "objectives"
_LIST_WHAT = {"objectives": "objectives", "success_criteria": "success criteria", "participants": "names"}


def uses_format_4(plan: RecoveryPlan) -> bool:
    """Whether ``plan`` needs format 4 to be written: it has a test brief or a cadence."""
    return not plan.brief.empty or not plan.cadence.empty


def format_4_key_message(key: str, version: int) -> str | None:
    """Why ``key`` is refused in a file of ``version`` when it belongs to format 4 (else None): the test
    brief or the cadence in an older file, or format 2's reserved ``objectives`` in any file."""
    if key == OBJECTIVES_PLACE:
        return (
            "'objectives' was format 2's reserved place for test objectives; they are written in the test "
            f"block (test: {{scenario, objectives, success_criteria, participants}}) of format: {FORMAT_V4}"
        )
    if key in FORMAT_4_PARTS and version < 4:
        return f"{key!r} is a key of format 4 (test brief and cadence): write format: {FORMAT_V4} to use it"
    return None


def refused_parts(version: int) -> tuple[str, ...]:
    """The top-level keys a file of ``version`` accepts only to refuse them when set (null is left out):
    format 2's reserved places that format 4 filled."""
    return (OBJECTIVES_PLACE, CADENCE_PART) if version < 4 else (OBJECTIVES_PLACE,)


# ------------------------------------------------------------------------------------------- export


def brief_to_document(brief: TestBrief) -> dict[str, Any] | None:
    """The ``test`` block (None: the plan has no brief); empty fields are left out."""
    if brief.empty:
        return None
    doc: dict[str, Any] = {}
    if brief.scenario:
        doc["scenario"] = brief.scenario
    for key in BRIEF_KEYS[1:]:
        items: tuple[str, ...] = getattr(brief, key)
        if items:
            doc[key] = list(items)
    return doc


def cadence_to_document(cadence: Cadence) -> dict[str, Any] | None:
    """The ``cadence`` block (None: the plan has no cadence); a rule not set is left out."""
    if cadence.empty:
        return None
    doc: dict[str, Any] = {}
    if cadence.every_days is not None:
        doc["every_days"] = cadence.every_days
    if cadence.retest_days is not None:
        doc["retest_days"] = cadence.retest_days
    if cadence.after_changes:
        doc["after_changes"] = True
    return doc


# ------------------------------------------------------------------------------------------- import


def read_brief(reader: ShapeReader, value: object) -> TestBrief:
    """The ``test`` block; ``NO_BRIEF`` when it is left out (or null), every problem added to ``reader``."""
    if value is None:
        return NO_BRIEF
    fields = reader.mapping(value, BRIEF_PART, BRIEF_KEYS, (), "the test brief")
    if fields is None:
        return NO_BRIEF
    scenario = ""
    if fields.get("scenario") is not None:
        scenario = reader.string(fields["scenario"], join_path(BRIEF_PART, "scenario")) or ""
    lists = {
        key: reader.string_list(fields.get(key), join_path(BRIEF_PART, key), _LIST_WHAT[key])
        for key in BRIEF_KEYS[1:]
    }
    return TestBrief(
        scenario=scenario,
        objectives=lists["objectives"],
        success_criteria=lists["success_criteria"],
        participants=lists["participants"],
    )


def read_cadence(reader: ShapeReader, value: object) -> Cadence:
    """The ``cadence`` block; ``NO_CADENCE`` when it is left out (or null)."""
    if value is None:
        return NO_CADENCE
    fields = reader.mapping(value, CADENCE_PART, CADENCE_KEYS, (), "the cadence")
    if fields is None:
        return NO_CADENCE
    days: dict[str, int | None] = {}
    for key in CADENCE_KEYS[:2]:
        item = fields.get(key)
        path = join_path(CADENCE_PART, key)
        days[key] = None if item is None else read_integer(reader, item, path, "a number of days")
    return Cadence(
        every_days=days["every_days"],
        retest_days=days["retest_days"],
        after_changes=_boolean(reader, fields.get("after_changes"), join_path(CADENCE_PART, "after_changes")),
    )


def _boolean(reader: ShapeReader, value: object, path: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, AmbiguousBoolean):
        reader.add(path, value.problem())
    else:
        reader.add(path, f"must be true or false, got {type_name(value)}")
    return False
