"""Checks of the plan's test brief and cadence (plan format 4), each with its field path.

The brief is what an auditor reads in every test's evidence, so each text is one line of printable text
(it goes into report tables, CSV cells and the journal), not blank, and bounded; a list holds at most
``MAX_ITEMS`` entries, each said once. The cadence's numbers are whole days in ranges that mean
something: a drill at most every ten years (``every_days``, up to 3660) and a re-test within a year
(``retest_days``, up to 365). A re-test window longer than the cadence itself is a warning: the regular
drill is due first. The editor refuses an edit by the same rules (``domain.plan.edit_brief``).

Pure: no I/O, no clock.
"""

from __future__ import annotations

from drs_desktop.domain.plan.document_base import join_path
from drs_desktop.domain.plan.document_brief import BRIEF_PART, CADENCE_PART
from drs_desktop.domain.plan.model import Cadence, TestBrief
from drs_desktop.domain.safe_text import name_problem

__all__ = [
    "MAX_EVERY_DAYS",
    "MAX_ITEMS",
    "MAX_RETEST_DAYS",
    "MAX_TEXT",
    "brief_problems",
    "cadence_problems",
    "place_of_brief",
]

#: Longest text of the brief (a scenario, one objective, one criterion, one participant).
MAX_TEXT = 300
#: Most objectives, success criteria or participants.
MAX_ITEMS = 20
MAX_EVERY_DAYS = 3660
MAX_RETEST_DAYS = 365
_LISTS = (
    ("objectives", "objective"),
    ("success_criteria", "success criterion"),
    ("participants", "participant"),
)

#: How the editor names the brief's and the cadence's fields, by the key of the plan file.
_LABELS = {
    "scenario": "scenario",
    "objectives": "objective",
    "success_criteria": "success criterion",
    "participants": "participant",
    "every_days": "test every",
    "retest_days": "re-test within",
    "after_changes": "after material changes",
}
_SECTIONS = {BRIEF_PART: "Test brief", CADENCE_PART: "Cadence"}

#: (path, message, is_error): what ``validate_plan`` turns into its problems.
Found = list[tuple[str, str, bool]]


def brief_problems(brief: TestBrief) -> Found:
    """Every problem of the test brief, in document order."""
    found: Found = []
    scenario_path = join_path(BRIEF_PART, "scenario")
    if brief.scenario and not brief.scenario.strip():
        found.append((scenario_path, "the scenario is blank; write one or leave it out", True))
    elif brief.scenario:
        found += _text(brief.scenario, scenario_path, "a scenario")
    for key, noun in _LISTS:
        items: tuple[str, ...] = getattr(brief, key)
        path = join_path(BRIEF_PART, key)
        if len(items) > MAX_ITEMS:
            found.append((path, f"holds {len(items)} entries; at most {MAX_ITEMS} are allowed", True))
        seen: set[str] = set()
        for index, item in enumerate(items):
            where = join_path(path, index)
            if not item.strip():
                found.append((where, f"{_article(noun)} {noun} must not be blank", True))
                continue
            found += _text(item, where, f"{_article(noun)} {noun}")
            if item.strip().casefold() in seen:
                found.append((where, f"the {noun} {item.strip()!r} is listed twice", False))
            seen.add(item.strip().casefold())
    return found


def cadence_problems(cadence: Cadence) -> Found:
    """Every problem of the cadence: each number in its range, and a re-test window the cadence overtakes."""
    found: Found = []
    every_ok = _days(found, cadence.every_days, "every_days", MAX_EVERY_DAYS, "ten years")
    retest_ok = _days(found, cadence.retest_days, "retest_days", MAX_RETEST_DAYS, "a year")
    if (
        every_ok
        and retest_ok
        and cadence.every_days is not None
        and cadence.retest_days is not None
        and cadence.retest_days > cadence.every_days
    ):
        found.append(
            (
                join_path(CADENCE_PART, "retest_days"),
                f"a re-test within {cadence.retest_days} days is longer than the cadence of "
                f"{cadence.every_days} days: the regular drill falls due first",
                False,
            )
        )
    return found


def _days(found: Found, value: int | None, key: str, most: int, span: str) -> bool:
    if value is None:
        return False
    if not 1 <= value <= most:
        found.append(
            (
                join_path(CADENCE_PART, key),
                f"must be a whole number of days from 1 to {most} ({span}), got {value}",
                True,
            )
        )
        return False
    return True


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiou" else "a"


def _text(text: str, path: str, what: str) -> Found:
    found: Found = []
    problem = name_problem(text)
    if problem is not None:
        found.append((path, problem.replace("a name must be", f"{what} must be"), True))
    if len(text) > MAX_TEXT:
        found.append((path, f"is {len(text)} characters long; at most {MAX_TEXT} are allowed", True))
    return found


def place_of_brief(path: str) -> str | None:
    """Where ``path`` is in the editor's words ("Test brief, objective 3", "Cadence, test every"); None
    for a path outside the brief and the cadence."""
    section, _, key = path.partition(".")
    if section not in _SECTIONS:
        return None
    name, _, index = key.partition("[")
    if not name:
        return _SECTIONS[section]
    label = _LABELS.get(name, name.replace("_", " "))
    if index and index.rstrip("]").isdigit():
        label = f"{label} {int(index.rstrip(']')) + 1}"
    elif name in ("objectives", "success_criteria", "participants"):
        label = name.replace("_", " ")
    return f"{_SECTIONS[section]}, {label}"
