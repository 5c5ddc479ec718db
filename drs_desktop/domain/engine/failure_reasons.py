"""Why a server failed or was never launched, in words an operator can act on.

The engine already keeps DRS's reason for a failed launch in ``ServerState.reason``: the job log's
failure event with its raw error ("LAUNCH_FAILED: InsufficientInstanceCapacity: ...", "CONVERSION_FAIL:
..."), once the log is read. One failure leaves no such event: without EC2 permissions the log stops
after SNAPSHOT_END and the job ends with the server FAILED (drs_api.md §12.7); ``drs_reason`` names that
pattern once the ended job's log has been read. A server DRS never took into a job ("not launched")
gets the last error its StartRecovery met (ConflictException, ServiceQuotaExceededException,
ThrottlingException, ...), which the server's own reason may no longer say ("timed out before DRS could
start it"). Pure: the CLI's ``run`` and ``executions show`` print these, the report may too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drs_desktop.domain.engine.events import Event, JobStatus, LaunchStatus, StartFailed
from drs_desktop.domain.engine.state import ExecutionState, ServerState, ServerStatus

__all__ = ["PERMISSIONS_PATTERN", "ServerProblem", "drs_reason", "last_start_errors", "server_problems"]

PERMISSIONS_PATTERN = (
    "DRS's job log stopped after SNAPSHOT_END with no error, the pattern of missing EC2 permissions "
    "(DRS launches the conversion server with the caller's permissions)"
)
#: Statuses of a server that will not launch in this run (unless an operator retries it).
_GIVEN_UP = frozenset({ServerStatus.FAILED, ServerStatus.SKIPPED, ServerStatus.CANCELLED})


def drs_reason(state: ExecutionState, server: ServerState) -> str:
    """The server's reason, with the permissions pattern named where the job log shows it."""
    if _permissions_pattern(state, server):
        return PERMISSIONS_PATTERN
    return server.reason


def _permissions_pattern(state: ExecutionState, server: ServerState) -> bool:
    """DRS failed the server in a job that has ended, and its log, read since, stops after the snapshot."""
    if server.status is not ServerStatus.FAILED or server.launch_status is not LaunchStatus.FAILED:
        return False
    job = state.jobs.get(server.job_id or "")
    if job is None or job.status is not JobStatus.COMPLETED or job.log_version < job.version:
        return False
    events = server.phase_times
    snapshot_done = "SNAPSHOT_END" in events or "USING_PREVIOUS_SNAPSHOT" in events
    return snapshot_done and "CONVERSION_START" not in events and not any("FAIL" in e for e in events)


def last_start_errors(events: Iterable[Event]) -> dict[str, str]:
    """Per chunk, the error of its last StartRecovery that did not start it (the journal's order)."""
    errors: dict[str, str] = {}
    for event in events:
        if isinstance(event, StartFailed) and event.reason:
            errors[event.chunk_id] = event.reason
    return errors


@dataclass(frozen=True)
class ServerProblem:
    """A server that failed, or that DRS never launched, and why. ``in_job``: DRS took it into a job
    (its reason is DRS's); otherwise it was not launched and ``last_error`` is its last start error."""

    wave_index: int
    wave_name: str
    server_id: str
    critical: bool
    status: ServerStatus
    in_job: bool
    reason: str
    last_error: str = ""

    def describe(self) -> str:
        """One line: "s-1 FAILED (critical): LAUNCH_FAILED: ..." or "s-2 not launched (SKIPPED): ...;
        last error: ConflictException"."""
        impact = "critical" if self.critical else "optional"
        if self.in_job:
            return f"{self.server_id} {self.status.value} ({impact}): {self.reason or 'no reason given'}"
        text = f"{self.server_id} not launched ({self.status.value.lower()}, {impact})"
        if self.reason:
            text += f": {self.reason}"
        if self.last_error and self.last_error not in self.reason:
            text += f"; last error: {self.last_error}"
        return text


def server_problems(state: ExecutionState, events: Iterable[Event] = ()) -> tuple[ServerProblem, ...]:
    """In plan order: every server given up on (failed, skipped, cancelled), and every server still
    waiting whose start DRS refused at least once. ``events``: the journal, for the last start errors."""
    start_errors = last_start_errors(events)
    problems = []
    for wave in state.waves:
        for server in state.wave_servers(wave.index):
            chunk = state.chunks.get(server.chunk_id or "")
            last_error = start_errors.get(chunk.chunk_id, "") if chunk is not None else ""
            if server.status not in _GIVEN_UP and not (last_error and server.status is ServerStatus.PENDING):
                continue
            problems.append(
                ServerProblem(
                    wave_index=wave.index,
                    wave_name=wave.name,
                    server_id=server.server_id,
                    critical=server.critical,
                    status=server.status,
                    in_job=server.job_id is not None and server.status is ServerStatus.FAILED,
                    reason=drs_reason(state, server),
                    last_error=last_error,
                )
            )
    return tuple(problems)
