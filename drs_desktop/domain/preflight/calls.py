"""The calls a run would make, listed before it makes any: the second half of preflight (``--dry-run``).

The list is derived from the engine's own starting state (``engine.state.build_state``), so the chunks,
their IDs and the tags are exactly those the engine will use; nothing here splits a wave a second way.
What cannot be known in advance is *when* each call goes out (it depends on approvals, waits, job
durations and the account's load) and the execution ID, which is assigned when the run starts: a dry run
shows ``DRY_RUN_EXECUTION_ID`` in its place. Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from drs_desktop.domain.engine.commands import job_tags
from drs_desktop.domain.engine.state import ChunkState, ExecutionSpec, Mode, WaveSpec, build_state
from drs_desktop.domain.plan.automation import AUTOMATION_STEPS, runs_in
from drs_desktop.domain.plan.automation_text import describe_automation
from drs_desktop.domain.plan.model import ApprovalStep, Step

#: Stands in for the execution ID in a dry run's tags: the real one is assigned when the run starts.
DRY_RUN_EXECUTION_ID = "<execution-id>"
#: The engine's first StartRecovery of a chunk is attempt 1 (a retry after a refusal counts up).
FIRST_ATTEMPT = 1


class CallKind(StrEnum):
    """What a planned step is. Only START_RECOVERY, DESCRIBE_JOBS and TERMINATE are DRS calls."""

    WAVE = "WAVE"  # a wave becomes eligible (its dependencies); not a call
    APPROVAL = "APPROVAL"  # the run stops until a person approves; not a call
    WAIT = "WAIT"  # the run waits; not a call
    AUTOMATION = "AUTOMATION"  # an automation step (health check, SSM, Lambda, script); no DRS call
    START_RECOVERY = "StartRecovery"
    START_NATIVE = "StartRecoveryPlanExecution"  # a run in DRS: DRS starts every job itself
    DESCRIBE_JOBS = "DescribeJobs"  # the polling while jobs run
    TERMINATE = "TerminateRecoveryInstances"  # drills: cleanup, when the operator asks


@dataclass(frozen=True, kw_only=True)
class PlannedCall:
    """One step of the run, in the order the plan gives. ``description`` is one readable line; the other
    fields are the data (``request()`` gives a StartRecovery's exact parameters)."""

    kind: CallKind
    description: str
    wave: str | None = None
    wave_index: int | None = None
    chunk_id: str | None = None
    server_ids: tuple[str, ...] = ()
    is_drill: bool | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    snapshot_ids: Mapping[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    minutes: int | None = None
    message: str = ""

    @property
    def is_api_call(self) -> bool:
        return self.kind in (
            CallKind.START_RECOVERY,
            CallKind.START_NATIVE,
            CallKind.DESCRIBE_JOBS,
            CallKind.TERMINATE,
        )

    def request(self) -> dict[str, Any] | None:
        """StartRecovery's parameters as the gateway sends them (``aws.drs.DrsGateway.start_recovery``);
        None for anything else."""
        if self.kind is not CallKind.START_RECOVERY:
            return None
        servers: list[dict[str, str]] = []
        for server_id in self.server_ids:
            entry = {"sourceServerID": server_id}
            if server_id in self.snapshot_ids:
                entry["recoverySnapshotID"] = self.snapshot_ids[server_id]
            servers.append(entry)
        params: dict[str, Any] = {"sourceServers": servers, "isDrill": self.is_drill}
        if self.tags:
            params["tags"] = dict(self.tags)
        return params


def planned_calls(spec: ExecutionSpec) -> tuple[PlannedCall, ...]:
    """Every step of ``spec`` in wave order: per wave, when it may begin, its before-steps, one
    StartRecovery per chunk (as the engine splits it), its after-steps; then how the run watches its
    jobs and, for a drill, the cleanup. Raises ValueError for a spec the engine would refuse."""
    state = build_state(spec)
    is_drill = spec.mode is Mode.DRILL
    if spec.native is not None:
        return _native_calls(spec, is_drill)
    calls: list[PlannedCall] = []
    for index, wave in enumerate(spec.waves):
        calls.append(_wave_entry(index, wave))
        calls.extend(_steps(index, wave, wave.before, "before launching", is_drill))
        chunks = sorted(state.wave_chunks(index), key=lambda c: c.seq)
        calls.extend(_start(spec, index, wave, chunk, is_drill, len(chunks)) for chunk in chunks)
        calls.extend(_steps(index, wave, wave.after, "after the launch", is_drill))
    calls.append(_polling(spec))
    if is_drill:
        calls.append(_cleanup())
    return tuple(calls)


def _cleanup() -> PlannedCall:
    return PlannedCall(
        kind=CallKind.TERMINATE,
        description=(
            "after the drill, only when the operator asks for cleanup: TerminateRecoveryInstances "
            "for the drill instances this run launched (at most 200 per call)"
        ),
    )


def _native_calls(spec: ExecutionSpec, is_drill: bool) -> tuple[PlannedCall, ...]:
    """A run in DRS: one StartRecoveryPlanExecution; DRS then runs the steps and starts their jobs."""
    native = spec.native
    assert native is not None
    calls = [
        PlannedCall(
            kind=CallKind.START_NATIVE,
            description=(
                f"StartRecoveryPlanExecution of native plan {native.native_name or native.plan_arn!r}, "
                f"mode={spec.mode.value}, with this run's client token (a resend never starts a second "
                "execution); DRS runs every step and starts every job itself"
            ),
            is_drill=is_drill,
        )
    ]
    for step in native.steps:
        wave = spec.waves[step.wave_index]
        if step.kind == "WAIT":
            calls.append(
                PlannedCall(
                    kind=CallKind.WAIT,
                    description=f"DRS step {step.index} {step.name!r}: waits {step.wait_minutes} min",
                    wave=wave.name,
                    wave_index=step.wave_index,
                    minutes=step.wait_minutes,
                )
            )
            continue
        optional = f", {len(wave.optional)} optional" if wave.optional else ""
        calls.append(
            PlannedCall(
                kind=CallKind.WAVE,
                description=(
                    f"DRS step {step.index} {step.name!r}: DRS launches wave {step.wave_index + 1} "
                    f"{wave.name!r} ({len(wave.server_ids)} server(s){optional}) in one job"
                ),
                wave=wave.name,
                wave_index=step.wave_index,
                server_ids=wave.server_ids,
                is_drill=is_drill,
            )
        )
    calls.append(
        PlannedCall(
            kind=CallKind.DESCRIBE_JOBS,
            description=(
                "while DRS runs it: GetRecoveryPlanExecution and ListRecoveryPlanExecutionSteps for the "
                "steps and their jobs, then DescribeJobs and DescribeJobLogItems for those jobs, at the "
                "engine's adaptive pace; retry, skip and cancel go to DRS's own calls"
            ),
        )
    )
    if is_drill:
        calls.append(_cleanup())
    return tuple(calls)


def _wave_entry(index: int, wave: WaveSpec) -> PlannedCall:
    if wave.depends_on:
        names = ", ".join(repr(name) for name in wave.depends_on)
        when = f"starts when {names} completed"
    else:
        when = "starts at once"
    optional = f", {len(wave.optional)} optional" if wave.optional else ""
    return PlannedCall(
        kind=CallKind.WAVE,
        description=f"wave {index + 1} {wave.name!r} ({len(wave.server_ids)} server(s){optional}), {when}",
        wave=wave.name,
        wave_index=index,
        depends_on=wave.depends_on,
    )


def _steps(
    index: int, wave: WaveSpec, steps: tuple[Step, ...], when: str, is_drill: bool
) -> list[PlannedCall]:
    calls = []
    for step in steps:
        if isinstance(step, AUTOMATION_STEPS):
            skipped = "" if runs_in(step, recovery=not is_drill) else f" (skipped: {step.policy.run_in} only)"
            calls.append(
                PlannedCall(
                    kind=CallKind.AUTOMATION,
                    description=f"{when}: {describe_automation(step)}{skipped}",
                    wave=wave.name,
                    wave_index=index,
                )
            )
        elif isinstance(step, ApprovalStep):
            calls.append(
                PlannedCall(
                    kind=CallKind.APPROVAL,
                    description=f"{when}: wait for an approval: {step.message!r}",
                    wave=wave.name,
                    wave_index=index,
                    message=step.message,
                )
            )
        else:
            calls.append(
                PlannedCall(
                    kind=CallKind.WAIT,
                    description=f"{when}: wait {step.minutes} min",
                    wave=wave.name,
                    wave_index=index,
                    minutes=step.minutes,
                )
            )
    return calls


def _start(
    spec: ExecutionSpec, index: int, wave: WaveSpec, chunk: ChunkState, is_drill: bool, chunk_count: int
) -> PlannedCall:
    """The chunk's StartRecovery exactly as the engine's ``StartJob`` will carry it on its first try."""
    snapshots = {s: spec.snapshot_ids[s] for s in chunk.server_ids if s in spec.snapshot_ids}
    parts = [
        f"StartRecovery job {chunk.chunk_id} ({chunk.seq} of {chunk_count})"
        if chunk_count > 1
        else f"StartRecovery job {chunk.chunk_id}",
        f"isDrill={'true' if is_drill else 'false'}",
        f"{len(chunk.server_ids)} server(s)",
    ]
    if snapshots:
        parts.append(f"{len(snapshots)} from the snapshot chosen for the point in time")
    post_launch = [s for s in chunk.server_ids if s in wave.post_launch]
    if post_launch and not is_drill:
        parts.append(f"then waits for the post-launch actions of {len(post_launch)} server(s)")
    return PlannedCall(
        kind=CallKind.START_RECOVERY,
        description=", ".join(parts),
        wave=wave.name,
        wave_index=index,
        chunk_id=chunk.chunk_id,
        server_ids=chunk.server_ids,
        is_drill=is_drill,
        tags=job_tags(spec.execution_id, index, chunk.chunk_id, FIRST_ATTEMPT),
        snapshot_ids=snapshots,
    )


def _polling(spec: ExecutionSpec) -> PlannedCall:
    polling = spec.polling
    if polling.fixed_interval is not None:
        pace = f"every {_seconds(polling.fixed_interval.total_seconds())} s"
    else:
        base = polling.base_interval.total_seconds()
        fast = base / polling.fast_divisor
        slow = base * polling.max_slowdown
        pace = f"every {_seconds(fast)} to {_seconds(slow)} s (faster while jobs change, slower when quiet)"
    return PlannedCall(
        kind=CallKind.DESCRIBE_JOBS,
        description=(
            f"while jobs run: DescribeJobs for the run's jobs (filters.jobIDs, at most 1,000 per call) "
            f"{pace}; DescribeJobLogItems only for a job that changed; DescribeRecoveryInstances where DRS "
            "names no instance; DescribeJobs of the last 2 days before queued jobs start (other tools' "
            "load); after an unclear StartRecovery failure, DescribeJobs since the start, matched by tags, "
            "before anything starts again"
        ),
    )


def _seconds(value: float) -> str:
    return f"{round(value, 1):g}"
