"""What changed in the test brief and the cadence between two versions of a plan (plan format 4).

Part of ``domain.plan.diff``, in the file's words: "test scenario: 'Loss of the primary site' -> 'Loss of
a Region'", "test objective 'Recover payments within the RTO' added", "cadence every_days: 90 -> 60
days". A list's entries are added and removed by their text (an objective is one sentence to the
operator, not a position); a list whose entries only moved says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from drs_desktop.domain.plan.model import Cadence, TestBrief

__all__ = ["brief_lines", "cadence_lines"]

_SHORT = 60
_LISTS = (
    ("objectives", "test objective", "test objectives"),
    ("success_criteria", "test success criterion", "test success criteria"),
    ("participants", "test participant", "test participants"),
)


def brief_lines(old: TestBrief, new: TestBrief) -> list[str]:
    """One line per change of the brief; none when the briefs are equal."""
    lines: list[str] = []
    if old.scenario != new.scenario:
        lines.append(f"test scenario: {_text(old.scenario)} -> {_text(new.scenario)}")
    for key, singular, plural in _LISTS:
        lines += _sequence_lines(singular, plural, getattr(old, key), getattr(new, key))
    return lines


def cadence_lines(old: Cadence, new: Cadence) -> list[str]:
    """One line per rule of the cadence that changed; none when the cadences are equal."""
    lines: list[str] = []
    for key in ("every_days", "retest_days"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            lines.append(f"cadence {key}: {_days(before)} -> {_days(after)}")
    if old.after_changes != new.after_changes:
        lines.append(f"cadence after_changes: {_flag(old.after_changes)} -> {_flag(new.after_changes)}")
    return lines


def _sequence_lines(singular: str, plural: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    if tuple(old) == tuple(new):
        return []
    before, after = Counter(old), Counter(new)
    lines = [f"{singular} {_quote(item)} removed" for item in _ordered(old, before - after)]
    lines += [f"{singular} {_quote(item)} added" for item in _ordered(new, after - before)]
    if not lines:
        lines.append(f"{plural} reordered: {_names(old)} -> {_names(new)}")
    return lines


def _ordered(sequence: Sequence[str], counts: Counter[str]) -> list[str]:
    remaining = Counter(counts)
    result: list[str] = []
    for item in sequence:
        if remaining[item] > 0:
            remaining[item] -= 1
            result.append(item)
    return result


def _quote(value: str) -> str:
    text = repr(value)
    return text[: _SHORT - 4] + "...'" if len(text) > _SHORT else text


def _text(value: str) -> str:
    return _quote(value) if value else "none"


def _names(names: Sequence[str]) -> str:
    return "[" + ", ".join(_quote(name) for name in names) + "]"


def _days(value: int | None) -> str:
    if value is None:
        return "none"
    return f"{value} day" if value == 1 else f"{value} days"


def _flag(value: bool) -> str:
    return "true (test again after material changes)" if value else "false"
