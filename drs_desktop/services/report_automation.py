"""The evidence report's rows for a wave's automation steps (health checks, SSM documents, Lambda
functions, local scripts): each step with its result and each attempt with what it found per target, the
tail of its output, and who decided a held step (``domain.views.evidence_steps``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drs_desktop.domain.views.evidence_steps import StepEvidence
from drs_desktop.services.report_values import iso


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


#: The columns of the automation steps' table in the HTML and PDF reports (one row per attempt; a step
#: that never ran has one row that says so).
AUTOMATION_HEADERS = ("Wave", "Step", "Result", "Try", "Status", "When", "What it found", "Output (tail)")
#: Characters of a step's output the HTML and PDF tables show (the JSON keeps the journal's tail).
SHOWN_OUTPUT = 600


@dataclass(frozen=True)
class AutomationRow:
    """One row of that table, as plain text (the renderer escapes it)."""

    wave: str
    step: str
    result: str
    attempt: str = ""
    status: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    found: tuple[str, ...] = ()
    output: str = ""


def automation_rows_of(doc: dict[str, Any]) -> list[AutomationRow]:
    """Every wave's automation steps from a report document (``build_report_document``'s output)."""
    rows: list[AutomationRow] = []
    names = {s["server_id"]: s["hostname"] for s in doc.get("servers", []) if s.get("hostname")}

    def who(server_id: str) -> str:
        return f"{names[server_id]} ({server_id})" if server_id in names else server_id

    for wave in doc["waves"]:
        for step in wave.get("automation", []):
            label = f"{step['phase'].lower()} step {step['step']}: {step['kind']} {step['name']!r}"
            result = step["result"] + (f" by {step['decided_by']}" if step.get("decided_by") else "")
            if step.get("comment"):
                result += f" ({step['comment']})"
            if not step["attempts"]:
                rows.append(AutomationRow(wave["name"], label, result))
            for attempt in step["attempts"]:
                found = [attempt["detail"]] if attempt["detail"] else []
                found += [
                    f"{who(t['server_id'])} {t['status']}" + (f": {t['detail']}" if t["detail"] else "")
                    for t in attempt["targets"]
                ]
                outputs = [attempt["output"].strip()] if attempt["output"].strip() else []
                outputs += [
                    f"[{names.get(t['server_id'], t['server_id'])}] {t['output'].strip()}"
                    for t in attempt["targets"]
                    if t["output"].strip()
                ]
                output = "\n".join(outputs)
                if len(output) > SHOWN_OUTPUT:
                    output = "…" + output[-(SHOWN_OUTPUT - 1) :]
                rows.append(
                    AutomationRow(
                        wave["name"],
                        label,
                        result,
                        str(attempt["attempt"]),
                        attempt["status"],
                        attempt["requested_at"],
                        attempt["ended_at"],
                        tuple(found),
                        output,
                    )
                )
    return rows
