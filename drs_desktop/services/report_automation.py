"""The evidence report's rows for a wave's automation steps (health checks, SSM documents, Lambda
functions, local scripts): each step with its result and each attempt with what it found per target, the
tail of its output, and who decided a held step (``domain.views.evidence_steps``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drs_desktop.domain.views.evidence_steps import StepEvidence


def iso(moment: datetime | None) -> str | None:
    """A report's time: ISO 8601 in UTC with ``Z`` (``report_document`` uses this one too)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def automation_rows(steps: tuple[StepEvidence, ...]) -> list[dict[str, Any]]:
    return [
        {
            "phase": step.phase,
            "step": step.index + 1,
            "kind": step.kind,
            "name": step.name,
            "result": step.result,
            "started_at": iso(step.started_at),
            "ended_at": iso(step.ended_at),
            "decided_by": step.decided_by or None,
            "comment": step.comment or None,
            "attempts": [
                {
                    "attempt": attempt.number,
                    "status": attempt.status.value,
                    "requested_at": iso(attempt.requested_at),
                    "ended_at": iso(attempt.ended_at),
                    "ref": attempt.ref or None,
                    "detail": attempt.detail,
                    "output": attempt.output,
                    "targets": [
                        {
                            "server_id": target.server_id,
                            "instance_id": target.instance_id or None,
                            "status": target.status,
                            "detail": target.detail,
                            "output": target.output,
                        }
                        for target in attempt.targets
                    ],
                }
                for attempt in step.attempts
            ],
        }
        for step in steps
    ]
