"""The editor's edits of the test brief and the cadence, as pure ``RecoveryPlan -> RecoveryPlan`` functions.

Like ``domain.plan.edit``: an edit that cannot be made raises ``PlanEditError`` with one sentence for the
operator. The rules are validation's (``domain.plan.validation_brief``), run on the new brief or cadence
alone, so the editor refuses exactly what validation calls an error and the two cannot drift; warnings
(an objective listed twice, a re-test window longer than the cadence) do not stop an edit, they show in
the problems list. Entries are trimmed and blank ones dropped: the editor's lists are one entry a line,
and an empty line is no objective.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from drs_desktop.domain.plan.edit import PlanEditError
from drs_desktop.domain.plan.model import Cadence, RecoveryPlan, TestBrief
from drs_desktop.domain.plan.validation_brief import brief_problems, cadence_problems, place_of_brief

__all__ = ["entries", "set_brief", "set_cadence"]


def entries(lines: Iterable[str]) -> tuple[str, ...]:
    """The entries of a one-per-line list: each trimmed, blank ones dropped."""
    return tuple(line.strip() for line in lines if line.strip())


def set_brief(plan: RecoveryPlan, brief: TestBrief) -> RecoveryPlan:
    """``plan`` with ``brief`` (trimmed), or ``PlanEditError`` with the first error of it."""
    brief = TestBrief(
        scenario=brief.scenario.strip(),
        objectives=entries(brief.objectives),
        success_criteria=entries(brief.success_criteria),
        participants=entries(brief.participants),
    )
    _refuse(brief_problems(brief))
    return dataclasses.replace(plan, brief=brief)


def set_cadence(plan: RecoveryPlan, cadence: Cadence) -> RecoveryPlan:
    """``plan`` with ``cadence``, or ``PlanEditError`` with the first error of it."""
    _refuse(cadence_problems(cadence))
    return dataclasses.replace(plan, cadence=cadence)


def _refuse(found: list[tuple[str, str, bool]]) -> None:
    for path, message, is_error in found:
        if is_error:
            raise PlanEditError(f"{place_of_brief(path) or path}: {message}")
