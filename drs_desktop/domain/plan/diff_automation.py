"""The plan diff's lines for a wave's steps: automation steps by name, approvals and waits as a list.

An automation step has a name and many fields, so a change is said as one: "after step 'db answers'
added (health-check)", "... removed", "...: port 5432 -> 5433". The fields compared are the plan file's
(``document_automation``), so every field a file can hold is named, in the file's words. Approvals and
waits have no name: any change that the named lines do not explain (one of them, or an order) is said as
the whole list before and after, as before automation steps existed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, AutomationStep, step_kind
from drs_desktop.domain.plan.document_automation import automation_step_to_document
from drs_desktop.domain.plan.model import ApprovalStep, Step, WaitStep

__all__ = ["step_label", "steps_lines"]

_SHORT = 60


def steps_lines(where: str, old: Sequence[Step], new: Sequence[Step]) -> list[str]:
    """What changed in a wave's ``where`` ("before" or "after") steps; [] when nothing did."""
    if tuple(old) == tuple(new):
        return []
    old_named, new_named = _named(old), _named(new)
    if old_named is None or new_named is None:  # two steps of one name: matched by position only
        return [f"steps {where}: {_labels(old)} -> {_labels(new)}"]
    lines = [f"{where} step {_quote(name)} removed" for name in old_named if name not in new_named]
    for name, step in new_named.items():
        if name not in old_named:
            lines.append(f"{where} step {_quote(name)} added ({step_kind(step)})")
        else:
            lines += [f"{where} step {_quote(name)}: {line}" for line in _fields(old_named[name], step)]
    # What the named lines explain: the old list with each kept step as it is now and the others gone.
    explained = [
        new_named[s.name] if isinstance(s, AUTOMATION_STEPS) else s
        for s in old
        if not isinstance(s, AUTOMATION_STEPS) or s.name in new_named
    ]
    if explained != [s for s in new if not isinstance(s, AUTOMATION_STEPS) or s.name in old_named]:
        lines.append(f"steps {where}: {_labels(old)} -> {_labels(new)}")
    return lines


def step_label(step: Step) -> str:
    """A step in a few words: ``approval 'DB ready?'``, ``wait 5 min``, ``health-check 'db answers'``."""
    if isinstance(step, ApprovalStep):
        return f"approval {_quote(step.message)}"
    if isinstance(step, WaitStep):
        return f"wait {step.minutes} min"
    return f"{step_kind(step)} {_quote(step.name)}"


def _named(steps: Sequence[Step]) -> dict[str, AutomationStep] | None:
    found: dict[str, AutomationStep] = {}
    for step in steps:
        if isinstance(step, AUTOMATION_STEPS):
            if step.name in found:
                return None
            found[step.name] = step
    return found


def _fields(old: AutomationStep, new: AutomationStep) -> list[str]:
    if old == new:
        return []
    before, after = automation_step_to_document(old), automation_step_to_document(new)
    lines = [
        f"{key} {_value(before.get(key))} -> {_value(after.get(key))}"
        for key in dict.fromkeys((*before, *after))
        if before.get(key) != after.get(key)
    ]
    return lines or ["changed (compare the documents)"]


def _value(value: object) -> str:
    if value is None:
        return "none"
    text = json.dumps(value, ensure_ascii=True, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 4] + "..."


def _labels(steps: Sequence[Step]) -> str:
    return "[" + ", ".join(step_label(step) for step in steps) + "]"


def _quote(value: str) -> str:
    text = repr(value)
    return text if len(text) <= _SHORT else text[: _SHORT - 4] + "...'"
