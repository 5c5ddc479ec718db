"""What the GUI's audit screens (issue 18) need from below the ui layer, which may not import services.

- the test type a run will be recorded as (``services.run_test.test_type_of``, the function the run's
  creation calls: the run dialog shows it, it never works it out a second way);
- the audit desk's answers and the signer's STS check (``services.audit_desk``), for the Audit tab and the
  sign-off dialog;
- ``submit_live_finding``: a finding for a run this GUI drives itself goes to its execution loop, the
  runner's own control path (``services.audit.submit_live``), as the progress view's other controls do.
"""

from __future__ import annotations

import logging

from drs_desktop.domain.drs.views import CallerIdentity
from drs_desktop.domain.engine.annotation_events import FindingAdded, TestType
from drs_desktop.domain.engine.state import Mode
from drs_desktop.domain.plan.model import TestBrief
from drs_desktop.services.audit import Annotated, AnnotationInputError, AnnotationRefused, submit_live
from drs_desktop.services.audit_desk import AuditDesk, AuditView, SignerTarget, signer_identity
from drs_desktop.services.audit_input import MAX_LINE, MAX_TEXT, check_due, check_line, check_text
from drs_desktop.services.executions import PreparedExecution
from drs_desktop.services.run_test import test_type_of
from drs_desktop.workers.execution_desk import ExecutionDesk

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_LINE",
    "MAX_TEXT",
    "Annotated",
    "AnnotationInputError",
    "AnnotationRefused",
    "AuditDesk",
    "AuditView",
    "CallerIdentity",
    "SignerTarget",
    "check_due",
    "check_line",
    "check_text",
    "plan_brief_of",
    "signer_identity",
    "submit_live_finding",
    "test_type_for",
]


def test_type_for(prepared: object, mode: Mode) -> TestType | None:
    """What the run of ``prepared`` (a checked ``PreparedExecution``) will be recorded as; None when the
    check gave nothing to tell it from."""
    if not isinstance(prepared, PreparedExecution):
        return None
    return test_type_of(mode, prepared.stored.plan, prepared.wave_servers)


test_type_for.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def plan_brief_of(prepared: object) -> tuple[str, TestBrief] | None:
    """The checked plan's name and its own test brief (what the run takes unless it is edited)."""
    if not isinstance(prepared, PreparedExecution):
        return None
    return prepared.stored.plan.name, prepared.stored.plan.brief


def submit_live_finding(desk: ExecutionDesk, execution_id: str, event: FindingAdded) -> bool:
    """Hand ``event`` to the loop that drives ``execution_id`` in this process (GUI thread): True when it
    took it (its runner journals it before its next step); False when no loop of ours drives it any more
    (the caller journals it with ``AuditDesk.add_finding`` instead)."""
    loop = desk.loop(execution_id)
    if loop is None:
        return False
    try:
        submit_live(loop.submit, event)
    except AnnotationRefused:
        return False
    logger.info("finding %s handed to the loop of %s", event.finding_id, execution_id)
    return True
