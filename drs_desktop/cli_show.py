"""What the CLI prints about executions: ``executions list`` and ``executions show``, and the lines
``run`` adds about failures (DRS's reason once the job log tells it, and the closing summary of the
servers that failed or were not launched, with their last error). The reasons come from
``domain.engine.failure_reasons``, the same derivation for every command.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop.cli_audit import AUDIT_ACTIONS, audit_command, audit_json, audit_lines
from drs_desktop.cli_exit import EXIT_OK
from drs_desktop.config import AppPaths
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.engine.events import Event
    from drs_desktop.domain.engine.failure_reasons import ServerProblem
    from drs_desktop.domain.engine.state import ExecutionState, ServerState
    from drs_desktop.domain.views.evidence_steps import StepEvidence
    from drs_desktop.services.runner import ExecutionRunner
    from drs_desktop.storage.db import Database


def reason_changes(before: ExecutionState, after: ExecutionState) -> list[str]:
    """DRS's reason for a failure, once its job log tells it (the failure itself is seen first)."""
    from drs_desktop.domain.engine.failure_reasons import drs_reason
    from drs_desktop.domain.engine.state import ServerStatus

    lines = []
    for server_id, server in after.servers.items():
        old = before.servers.get(server_id)
        if old is None or old.status is not ServerStatus.FAILED or server.status is not ServerStatus.FAILED:
            continue
        reason = drs_reason(after, server)
        if reason and reason != drs_reason(before, old):
            lines.append(f"  {server_id} failed: {reason}")
    return lines


def print_problems(db: Database, runner: ExecutionRunner) -> None:
    """The summary: each server that failed or was not launched, and why (DRS's reason, last error)."""
    from drs_desktop.domain.engine.failure_reasons import server_problems

    problems = server_problems(runner.state, _journal_events(db, runner.execution_id))
    if not problems:
        return
    print(f"{len(problems)} server(s) failed or not launched:", file=sys.stderr)
    for problem in problems:
        print(f"  wave {problem.wave_name!r}: {problem.describe()}", file=sys.stderr)


def _journal_events(db: Database, execution_id: str) -> list[Event]:
    """The execution's events; one line (``JournalUnreadableError``) for an entry this version cannot
    decode, never a traceback."""
    from drs_desktop.storage import executions as journal

    return list(journal.read_journal(db, journal.get_execution(db, execution_id)).events)


def executions_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.storage import executions as journal
    from drs_desktop.storage.db import Database

    if args.executions_command in AUDIT_ACTIONS:
        return audit_command(args, paths, out)
    with Database.open(paths.database) as db:
        if args.executions_command == "list":
            records = journal.list_executions(db, plan_name=args.plan)
            if args.json:
                json.dump([_record_json(r) for r in records], out, indent=2)
                out.write("\n")
                return EXIT_OK
            if not records:
                print("no executions yet", file=sys.stderr)
            for r in records:
                print(
                    f"{r.execution_id}  {r.started_at:%Y-%m-%d %H:%M} UTC  {r.mode:<8} {r.status:<16} "
                    f"{terminal_safe(r.plan_name)} rev {r.plan_revision}",
                    file=out,
                )
            return EXIT_OK
        return _show(db, args, out)


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "execution_id": record.execution_id,
        "plan": record.plan_name,
        "plan_revision": record.plan_revision,
        "mode": record.mode,
        "status": record.status,
        "outcome": record.outcome,
        "started_at": record.started_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
    }


def _show(db: Database, args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.domain.engine.failure_reasons import server_problems
    from drs_desktop.domain.engine.grace import jobs_left_running
    from drs_desktop.domain.engine.queries import drill_instances_running
    from drs_desktop.domain.views.audit import audit_record
    from drs_desktop.domain.views.end_states import end_states
    from drs_desktop.domain.views.evidence import instance_problems
    from drs_desktop.domain.views.evidence_steps import automation_evidence
    from drs_desktop.domain.views.holders import held_text
    from drs_desktop.services.execution_session import hostnames_for
    from drs_desktop.services.journal_replay import replay_journal
    from drs_desktop.services.report_automation import automation_rows
    from drs_desktop.services.report_end import end_data
    from drs_desktop.storage import executions as journal

    record = journal.get_execution(db, args.execution_id)
    replayed = replay_journal(db, record)
    if replayed.journal.warning:
        print(replayed.journal.warning, file=sys.stderr)  # cut short: shown, with this warning first
    events = list(replayed.events)
    state = replayed.state
    running = drill_instances_running(state)
    unaccounted = instance_problems(state)
    problems = {p.server_id: p for p in server_problems(state, events)}
    if args.json:
        data = _record_json(record)
        data["waves"] = [
            {
                "name": wave.name,
                "phase": wave.phase.value,
                "servers": [
                    _server_json(state, s, problems.get(s.server_id)) for s in state.wave_servers(wave.index)
                ],
                "automation": automation_rows(automation_evidence(state, wave)),
            }
            for wave in state.waves
        ]
        data["drill_instances_running"] = list(running)
        data["instance_problems"] = list(unaccounted)
        data["jobs_still_running_in_drs"] = list(jobs_left_running(state))
        data["end"] = end_data(state, hostnames_for(db, record))
        data["audit"] = audit_json(audit_record(events))
        json.dump(data, out, indent=2)
        out.write("\n")
        return EXIT_OK
    print(f"execution {record.execution_id}", file=out)
    print(
        f"  plan {terminal_safe(repr(record.plan_name))} rev {record.plan_revision}, "
        f"{record.mode}, {record.status}",
        file=out,
    )
    print(
        f"  started {record.started_at:%Y-%m-%d %H:%M:%S} UTC by {record.identity.get('arn', '?')}", file=out
    )
    for wave in state.waves:
        print(f"  wave {wave.index + 1} {terminal_safe(repr(wave.name))}: {wave.phase.value}", file=out)
        for server in state.wave_servers(wave.index):
            problem = problems.get(server.server_id)
            extra = f" {server.recovery_instance_id}" if server.recovery_instance_id else ""
            if problem is not None:
                print(f"    {problem.describe()}{extra}", file=out)
            else:
                print(f"    {server.server_id} {server.status.value}{extra}", file=out)
            held = held_text(server)
            if held:
                print(f"      {terminal_safe(held)}", file=out)
        for line in _step_lines(automation_evidence(state, wave)):
            print(terminal_safe(line), file=out)
    if running:
        print(
            f"  drill instances still running: {len(running)} (drs-desktop cleanup {record.execution_id})",
            file=out,
        )
    for line in unaccounted:
        print(f"  {line}", file=out)
    for line in audit_lines(audit_record(events)):  # the test, findings and sign-off (issue 18)
        print(terminal_safe(line), file=out)
    end = end_states(state)  # how a stopped run ends: the same words as the progress view and the report
    for line in end.lines(hostnames_for(db, record)) if end is not None else ():
        print(f"  {terminal_safe(line)}", file=out)
    return EXIT_OK


def _server_json(state: ExecutionState, server: ServerState, problem: ServerProblem | None) -> dict[str, Any]:
    """A server of ``executions show --json``: ``reason`` is DRS's where it gave one (the job log's
    error, or the missing-permissions pattern); ``last_error`` the last error of a start that did not
    launch it."""
    from drs_desktop.domain.engine.failure_reasons import drs_reason

    return {
        "server_id": server.server_id,
        "status": server.status.value,
        "job_id": server.job_id,
        "recovery_instance_id": server.recovery_instance_id,
        "retries": server.retries,
        "reason": drs_reason(state, server) or None,
        "last_error": (problem.last_error or None) if problem is not None else None,
        "held_by": _holder_json(server),
    }


def _holder_json(server: ServerState) -> dict[str, Any] | None:
    """The job that held the server while it waited to start (``engine.busy``), None if none did."""
    from drs_desktop.domain.views.holders import is_waiting

    holder = server.held_by
    if holder is None:
        return None
    return {
        "job_id": holder.job_id or None,
        "since": holder.created_at.isoformat() if holder.created_at else None,
        "initiated_by": holder.initiated_by or None,
        "tags": dict(holder.tags),
        "until": server.held_until.isoformat() if server.held_until else None,
        "waiting": is_waiting(server),
    }


def _step_lines(steps: tuple[StepEvidence, ...]) -> list[str]:
    """A wave's automation steps under its servers: each with its result (and who decided it), each
    attempt with its status, times and what it found, and per target its answer (the report and
    ``--json`` keep the output's tail too)."""
    lines = []
    for step in steps:
        decided = f" by {step.decided_by}" if step.decided_by else ""
        comment = f" ({step.comment})" if step.comment else ""
        lines.append(f"    {step.label}: {step.result}{decided}{comment}")
        for attempt in step.attempts:
            ended = f"-{attempt.ended_at:%H:%M:%S}" if attempt.ended_at else ""
            ref = f" [{attempt.ref}]" if attempt.ref else ""
            found = f": {_one_line(attempt.detail)}" if attempt.detail else ""
            lines.append(
                f"      attempt {attempt.number} {attempt.status.value} "
                f"{attempt.requested_at:%H:%M:%S}{ended}{ref}{found}"
            )
            for target in attempt.targets:
                instance = f" ({target.instance_id})" if target.instance_id else ""
                detail = f": {_one_line(target.detail)}" if target.detail else ""
                lines.append(f"        {target.server_id}{instance} {target.status}{detail}")
    return lines


def _one_line(text: str, limit: int = 300) -> str:
    """A detail on one line of the listing, cut at ``limit`` characters (the report keeps all of it)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
