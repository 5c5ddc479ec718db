"""The evidence report as one JSON-ready document, from which the JSON, CSV and HTML forms are all made.

Building the three formats from one document keeps them from disagreeing. The layout is a stable,
versioned contract (``schema`` / ``schema_version``; see docs/evidence-report.md): fields are only ever
added. Times are UTC ISO-8601 with a ``Z``; durations are seconds; a value not known is ``null``.

Secrets never reach it: options are copied through an allow-list (region, profile, endpoint; an
endpoint loses any user:password and query string), and every string is scrubbed of AWS access key IDs
and ``secret=...``-style pairs as a last line of defence against a typed comment or a DRS error text
(``services.report_values``, which every section builder writes its values through). The drill's
sections, its drill network and its cleanup, are ``services.report_drill``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from drs_desktop import APP_NAME, __version__
from drs_desktop.domain.engine.events import SkipWave
from drs_desktop.domain.engine.state import ExecutionState, ServerStatus
from drs_desktop.domain.views.report import ExecutionView, ServerAttempt, rto_decider
from drs_desktop.services.report_audit import audit_document
from drs_desktop.services.report_automation import automation_rows
from drs_desktop.services.report_drill import cleanup_document, drill_network_document, terminate_jobs
from drs_desktop.services.report_end import end_document
from drs_desktop.services.report_native import native_document, operator_actions, skip_in_drs
from drs_desktop.services.report_values import iso, number, safe_endpoint, scrub, seconds

SCHEMA = "drs-desktop/execution-report"
SCHEMA_VERSION = 1

#: Option keys a report may show; anything else an option mapping holds is left out.
_TARGET_KEYS = ("region", "profile", "endpoint_url")

RTO_DEFINITION = (
    "From the execution's start to the moment its last critical server (of the waves not skipped) was "
    "ready: launched, and for a recovery its post-launch actions done."
)
LAUNCH_NOTE = (
    "launched_at is when the runner's poll saw the server LAUNCHED (DRS logs no event for it): it may lag "
    "the real launch by up to one poll interval. Phase times are DRS's job-log times."
)


def build_report_document(view: ExecutionView, generated_at: datetime | None = None) -> dict[str, Any]:
    """The report of ``view`` as plain JSON data, scrubbed. ``generated_at`` defaults to now."""
    state, record, evidence = view.state, view.record, view.evidence
    spec = state.spec
    finished = evidence.finished_at
    generated = generated_at or datetime.now(UTC)
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated": {
            "at": iso(generated),
            "app": APP_NAME,
            "app_version": __version__,
        },
        "execution": {
            "id": record.execution_id,
            "mode": evidence.mode,
            "status": evidence.status.value,
            "outcome": evidence.outcome.value if evidence.outcome else None,
            "started_at": iso(evidence.started_at),
            "finished_at": iso(finished),
            "duration_seconds": seconds(finished - evidence.started_at) if finished else None,
            "plan_name": record.plan_name,
            "run_in": "DRS" if spec.native is not None else "desktop",  # services.executions.RUN_IN_KEY
            # A drill run although its network's isolation check failed: the operator's reason.
            "isolation_override": record.options.get("isolation_override") or None,
            "journal": {
                "events": view.journal_events,
                "sha256": view.journal_sha256,
                "warning": view.journal_warning or None,  # the journal looks cut short
            },
        },
        # A run in DRS: the native plan and execution, DRS's status and steps (services.report_native).
        "native": native_document(view),
        "identity": {key: str(record.identity.get(key, "")) for key in ("account", "arn", "user_id")},
        "target": _target(record.options),
        "recovery_point": {
            "point_in_time": iso(spec.point_in_time),
            "choice": "point in time" if spec.point_in_time else "latest",
            "snapshot_ids": dict(spec.snapshot_ids),
        },
        "settings": {
            "wave_timeout_seconds": seconds(spec.wave_timeout),
            "poll_interval_seconds": number(record.options.get("poll_interval_seconds")),
            "max_start_attempts": spec.max_start_attempts,
            "servers_per_job": spec.limits.chunk_size,
        },
        "plan": _plan(view),
        "rto": _rto(view),
        # Issue 18: the test, the RPO per launched server, findings, review and sign-off (report_audit).
        "audit": audit_document(view, generated),
        "summary": _summary(view),
        "waves": _waves(view),
        "servers": _servers(view),
        "jobs": _jobs(view),
        "approvals": _approvals(view),
        "retries": [
            {
                "wave": spec.waves[r.wave_index].name,
                "wave_index": r.wave_index,
                "at": iso(r.at),
                "by": r.by,
                "server_ids": list(r.server_ids),
                "relaunched_at": iso(r.relaunched_at),  # a run in DRS: when DRS's new job was seen
            }
            for r in view.retries
        ],
        "skips": [
            {
                "wave": spec.waves[c.wave_index].name,
                "wave_index": c.wave_index,
                "at": iso(c.at),
                "by": c.by,
                "reason": c.reason,
                "in_drs": skip_in_drs(view, c),  # a run in DRS: skipped | refused: why | not confirmed
            }
            for c in view.controls
            if isinstance(c, SkipWave)
        ],
        "operator_actions": operator_actions(view),
        "takeovers": takeovers_document(state),
        # A drill into the drill network: each server's template, pointed and restored (engine.drill_net).
        "drill_network": drill_network_document(view),
        "cleanup": cleanup_document(view),
        # The same lines as the live and history logs (``views.event_log``), in journal order.
        "event_log": [{"at": iso(line.at), "text": line.text} for line in view.log],
        "end": end_document(view),  # how a stopped run ended (services.report_end)
        "notes": {"rto": RTO_DEFINITION, "launched_at": LAUNCH_NOTE},
    }
    scrubbed: dict[str, Any] = scrub(document)
    return scrubbed


def _target(options: Mapping[str, Any]) -> dict[str, str | None]:
    raw = options.get("target")
    target = raw if isinstance(raw, Mapping) else {}
    shown: dict[str, str | None] = {}
    for key in _TARGET_KEYS:
        value = target.get(key)
        text = str(value) if value not in (None, "") else None
        shown[key] = safe_endpoint(text) if key == "endpoint_url" else text
    return shown


def _plan(view: ExecutionView) -> dict[str, Any]:
    record, pinned = view.record, view.plan
    revision = pinned.revision
    return {
        "id": record.plan_id,
        "revision_id": record.plan_revision_id,
        "name": record.plan_name,
        "current_name": revision.name if revision else None,
        "revision": record.plan_revision,
        "content_hash": revision.content_hash if revision else None,
        "hash_verified": pinned.hash_verified,
        "saved_at": iso(revision.saved_at) if revision else None,
        "author": revision.author if revision else None,
        "comment": revision.comment if revision else None,
        "problem": pinned.problem,
        "document": dict(pinned.document) if pinned.document is not None else None,
    }


def _rto(view: ExecutionView) -> dict[str, Any]:
    rto = view.evidence.rto
    decider = rto_decider(view.state)
    return {
        "target_seconds": seconds(rto.target),
        "achieved_seconds": seconds(rto.achieved),
        "met": rto.met,
        "measured_from": iso(view.state.spec.started_at),
        "measured_to": iso(decider.ready_at) if decider else None,
        "last_critical_server": decider.server_id if decider else None,
    }


def _summary(view: ExecutionView) -> dict[str, int]:
    servers = view.state.servers.values()

    def count(status: ServerStatus) -> int:
        return sum(1 for s in servers if s.status is status)

    return {
        "waves": len(view.state.waves),
        "servers": len(view.state.servers),
        "launched": count(ServerStatus.LAUNCHED),
        "failed": count(ServerStatus.FAILED),
        "skipped": count(ServerStatus.SKIPPED),
        "cancelled": count(ServerStatus.CANCELLED),
        "retries": sum(s.retries for s in servers),
        "recovery_jobs": len(view.state.jobs),
    }


def _waves(view: ExecutionView) -> list[dict[str, Any]]:
    spec = view.state.spec
    rows = []
    for summary, wave, wave_spec in zip(view.evidence.waves, view.state.waves, spec.waves, strict=True):
        rows.append(
            {
                "index": wave.index,
                "name": wave.name,
                "phase": summary.phase.value,
                "depends_on": list(wave_spec.depends_on),
                "server_ids": list(wave_spec.server_ids),
                "optional_server_ids": list(wave_spec.optional),
                "started_at": iso(summary.started_at),
                "launch_started_at": iso(summary.launch_started_at),
                "launch_completed_at": iso(summary.launch_completed_at),
                "completed_at": iso(summary.completed_at),
                "skipped_at": iso(summary.skipped_at),
                "timed_out_at": iso(summary.timed_out_at),
                "steps": [
                    {
                        "phase": step.phase.value,
                        "step": step.step_index + 1,
                        "kind": step.kind,
                        "started_at": iso(step.started_at),
                        "ended_at": iso(step.ended_at),
                    }
                    for step in wave.steps
                ],
                "automation": automation_rows(summary.steps),
                "warnings": list(summary.warnings),
            }
        )
    return rows


def _attempt(row: ServerAttempt) -> dict[str, Any]:
    instance = row.instance
    return {
        "attempt": row.attempt,
        "final": row.final,
        "status": row.status.value,
        "reason": row.reason,
        "held_by": row.held or None,
        "chunk_id": row.chunk_id,
        "job_id": row.job_id,
        "queued_at": iso(row.queued_at),
        "start_requested_at": iso(row.start_requested_at),
        "job_started_at": iso(row.job_started_at),
        "launched_at": iso(row.launched_at),
        "ready_at": iso(row.ready_at),
        "failed_at": iso(row.failed_at),
        "failed_stage": next((span.name for span in row.spans if span.failed), None),
        "phases": {event: iso(at) for event, at in row.phases.items()},
        "stages": {
            span.name: {
                "started_at": iso(span.started_at),
                "ended_at": iso(span.ended_at),
                "seconds": seconds(span.duration),
                "failed": span.failed,
            }
            for span in row.spans
        },
        "recovery_instance_id": row.recovery_instance_id,
        "ec2_instance_id": row.ec2_instance_id,
        "terminated_at": iso(instance.terminated_at) if instance else None,
        "terminate_job_id": instance.terminate_job_id if instance else None,
    }


def _servers(view: ExecutionView) -> list[dict[str, Any]]:
    by_server: dict[str, list[ServerAttempt]] = {}
    for row in view.attempts:
        by_server.setdefault(row.server_id, []).append(row)
    rows = []
    for timeline in view.evidence.servers:
        attempts = by_server[timeline.server_id]
        rows.append(
            {
                "server_id": timeline.server_id,
                "hostname": attempts[-1].hostname or None,
                "wave": timeline.wave_name,
                "wave_index": attempts[-1].wave_index,
                "impact": "critical" if timeline.critical else "optional",
                "status": timeline.status.value,
                "reason": timeline.reason,
                "retries": timeline.retries,
                "job_ids": list(timeline.job_ids),
                "queued_at": iso(timeline.queued_at),
                "launched_at": iso(timeline.launched_at),
                "ready_at": iso(timeline.ready_at),
                "time_to_launch_seconds": seconds(timeline.time_to_launch),
                # The server's own lookup, else the instance cleanup's survey found for its last try
                # (a cancelled run stops looking before a late launch is seen).
                "recovery_instance_id": timeline.recovery_instance_id or attempts[-1].recovery_instance_id,
                "ec2_instance_id": timeline.ec2_instance_id or attempts[-1].ec2_instance_id,
                "attempts": [_attempt(row) for row in attempts],
            }
        )
    return rows


def _jobs(view: ExecutionView) -> list[dict[str, Any]]:
    state = view.state
    rows: list[dict[str, Any]] = []
    for job in sorted(state.jobs.values(), key=lambda j: (j.started_at or state.spec.started_at, j.job_id)):
        chunk = state.chunks[job.chunk_id]
        rows.append(
            {
                "job_id": job.job_id,
                "kind": "LAUNCH",
                "drill": state.is_drill,
                "wave": state.spec.waves[chunk.wave_index].name,
                "chunk_id": chunk.chunk_id,
                "retry": chunk.is_retry,
                "server_ids": list(chunk.server_ids),
                "status": job.status.value,
                "started_at": iso(job.started_at),
                "completed_at": iso(job.completed_at),
            }
        )
    for job_id, instances in terminate_jobs(state).items():
        followed = state.terminate_jobs.get(job_id)
        accepted = [i.terminated_at for i in instances if i.terminated_at]
        rows.append(
            {
                "job_id": job_id,
                "kind": "TERMINATE",
                "drill": True,
                "wave": None,
                "chunk_id": None,
                "retry": False,
                "server_ids": sorted({i.server_id for i in instances}),
                "status": followed.status.value if followed else None,
                "started_at": iso(followed.started_at if followed else min(accepted, default=None)),
                "completed_at": iso(followed.completed_at) if followed else None,
            }
        )
    return rows


def takeovers_document(state: ExecutionState) -> list[dict[str, Any]]:
    """Each takeover from a silent desktop (``engine.takeover``): who, from whom, when, whether the journal
    was complete, the chunks checked in DRS's records, and the jobs of this execution it did not know."""
    return [
        {
            "at": iso(t.at),
            "by": t.by,
            "previous": t.previous or None,
            "operator": t.operator,
            "journal_complete": t.journal_complete,
            "checked_chunks": list(t.unchecked),
            "unknown_jobs": [
                {"job_id": j.job_id, "chunk_id": j.chunk_id, "server_ids": list(j.server_ids)}
                for j in t.unknown_jobs
            ],
        }
        for t in state.takeovers
    ]


def _approvals(view: ExecutionView) -> list[dict[str, Any]]:
    rows = []
    for wave in view.state.waves:
        for approval in wave.approvals:
            rows.append(
                {
                    "wave": wave.name,
                    "wave_index": wave.index,
                    "phase": approval.phase.value,
                    "step": approval.step_index + 1,
                    "message": approval.message,
                    "requested_at": iso(approval.requested_at),
                    "decided_at": iso(approval.decided_at),
                    "waited_seconds": seconds(approval.decided_at - approval.requested_at),
                    "by": approval.by,
                    "decision": "granted" if approval.granted else "rejected",
                    "comment": approval.comment,
                }
            )
    return sorted(rows, key=lambda row: str(row["decided_at"]))
