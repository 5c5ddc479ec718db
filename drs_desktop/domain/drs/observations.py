"""What a DRS answer means for the execution, beyond the facts ``apply`` folds: the events the runner
journals after a poll, a job-log read or a listing of the account's jobs.

The runner reads DRS and hands the typed answer (``drs.views``) to these functions; it journals what they
return and nothing else. So every rule about *which* facts matter lives here, next to the engine, and a
replay needs none of them (the journal holds their result):

- ``external_load``: which listed jobs hold servers or quota beyond what this run counts (other tools'
  active jobs, and its own that DRS still lists as active) and who holds its servers; they count
  against the account's quotas before queued chunks start;
- ``post_launch_events``: when a launched server's post-launch actions count as completed or failed;
- ``job_log_observed``: which log items are new since the last read of the job's log;
- ``jobs_observed``: a poll as the journal keeps it: only the jobs and servers whose view changes the
  state (the journal records what changed, not every poll; the fold leaves what is absent untouched).

Pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from drs_desktop.domain.drs.views import DrsJobView, JobLogEntry
from drs_desktop.domain.engine.events import (
    ExternalLoad,
    HoldingJob,
    JobLogObserved,
    JobsObserved,
    JobView,
    PostLaunchCompleted,
    PostLaunchFailed,
)
from drs_desktop.domain.engine.observe import fold_jobs
from drs_desktop.domain.engine.queries import job_active
from drs_desktop.domain.engine.reducer import apply
from drs_desktop.domain.engine.state import ExecutionState, PostLaunch, ServerStatus
from drs_desktop.domain.engine.terminations import fold_terminate_jobs

#: A holder's tags are kept for the evidence, bounded so an odd tool's tags cannot swell the journal.
MAX_HOLDER_TAGS = 10
MAX_TAG_CHARS = 120


def external_load(state: ExecutionState, listed: Sequence[DrsJobView], at: datetime) -> ExternalLoad:
    """The account's load outside what this run counts, from a listing of its recent jobs: journaled
    after every listing (it replaces the last one, and ends the engine's wish to look, see ``engine``).

    Other tools' active jobs, and this run's own jobs that DRS lists as active although the run counts
    them as ended (one it stopped hearing about): both hold their servers. ``holders`` names those of
    them that hold servers of this run, with who started them and when (``engine.busy``)."""
    others = [job for job in listed if job.is_active and not _counted(state, job.job_id)]
    busy = tuple(sorted({server for job in others for server in job.server_ids}))
    holders = tuple(holding for job in others if (holding := _holding(state, job)) is not None)
    return ExternalLoad(active_jobs=len(others), busy_server_ids=busy, at=at, holders=holders)


def _counted(state: ExecutionState, job_id: str) -> bool:
    """An active job of this run: its servers and quota are counted already (``queries.own_load``)."""
    job = state.jobs.get(job_id)
    return job is not None and job_active(job)


def _holding(state: ExecutionState, job: DrsJobView) -> HoldingJob | None:
    """The job as a holder of this run's servers (only those named; DRS's own tag dropped), or None."""
    servers = tuple(sorted(s for s in job.server_ids if s in state.servers))
    if not servers:
        return None
    tags = {k: v[:MAX_TAG_CHARS] for k, v in sorted(job.tags.items()) if k != "resourceArn"}
    return HoldingJob(
        job_id=job.job_id,
        server_ids=servers,
        created_at=job.created_at,
        initiated_by=job.initiated_by,
        tags=dict(list(tags.items())[:MAX_HOLDER_TAGS]),
    )


def post_launch_events(
    state: ExecutionState,
    jobs: Sequence[DrsJobView],
    expected_actions: Mapping[str, int],
    at: datetime,
) -> list[PostLaunchCompleted | PostLaunchFailed]:
    """Post-launch actions of launched servers that expect them, once their runs are all over.

    A failed run that is not optional fails the server's post-launch at once. Otherwise the actions
    count as completed when none is running and at least ``expected_actions[server]`` runs ended: DRS
    lists a run only once it starts, so "every listed run succeeded" alone would be said too early.
    """
    events: list[PostLaunchCompleted | PostLaunchFailed] = []
    for job in jobs:
        for view in job.servers:
            server = state.servers.get(view.source_server_id)
            if server is None or server.post_launch is not PostLaunch.PENDING:
                continue
            if server.status is not ServerStatus.LAUNCHED or view.post_launch is None:
                continue
            runs = view.post_launch.runs
            failed = [run for run in view.post_launch.failed if not run.optional]
            if failed:
                reason = "; ".join(
                    f"{run.action_name or run.action_id}: {run.failure_reason}" for run in failed
                )
                events.append(PostLaunchFailed(server_id=server.server_id, reason=reason, at=at))
                continue
            expected = expected_actions.get(server.server_id, 0)
            finished = [run for run in runs if run.status != "IN_PROGRESS"]
            if runs and not view.post_launch.running and len(finished) >= expected:
                events.append(PostLaunchCompleted(server_id=server.server_id, at=at))
    return events


def job_log_observed(
    state: ExecutionState, job_id: str, entries: Sequence[JobLogEntry], at: datetime
) -> JobLogObserved:
    """The items of a job's whole log (DRS returns all of it each time) worth journaling: those past the
    count already journaled (``JobState.log_seen``), plus every failure item, which explains a failure a
    later poll may only then report. Without it a 300-server job's log, journaled whole on every change,
    would grow the journal quadratically."""
    job = state.jobs.get(job_id)
    seen = job.log_seen if job is not None else 0
    items = tuple(
        entry.to_engine(at)
        for position, entry in enumerate(entries)
        if position >= seen or "FAIL" in entry.event
    )
    return JobLogObserved(job_id=job_id, items=items, at=at, seen=len(entries))


def jobs_observed(
    state: ExecutionState, jobs: Sequence[JobView], missing: Sequence[str], at: datetime
) -> JobsObserved:
    """The poll's event with only what changes ``state``: a job view that changes nothing is left out,
    and of a job that changed, the servers that did not (a quiet poll journals no job view at all, only
    its time, which the poll pacing needs). Checked, not assumed: unless applying the compact event gives
    exactly the state the whole answer gives (``reducer.apply``, so launch and TERMINATE jobs alike),
    the whole answer is journaled."""
    full = JobsObserved(jobs=tuple(jobs), missing_job_ids=tuple(missing), at=at)
    kept: list[JobView] = []
    current = state
    for view in jobs:
        if view.job_id in current.terminate_jobs:  # a TERMINATE job's view is kept whole when it moves
            folded = fold_terminate_jobs(current, (view,), (), at)
            if folded != current:
                kept.append(view)
                current = folded
            continue
        folded, _ = fold_jobs(current, (view,), (), at)
        if folded == current:
            continue
        servers = tuple(
            server
            for server in view.servers
            if folded.servers.get(server.server_id) != current.servers.get(server.server_id)
            or (server.recovery_instance_id and server.recovery_instance_id not in current.instances)
        )
        kept.append(replace(view, servers=servers))
        current = folded
    compact = replace(full, jobs=tuple(kept))
    if len(compact.jobs) == len(full.jobs) and all(
        a == b for a, b in zip(compact.jobs, full.jobs, strict=True)
    ):
        return full
    return compact if apply(state, compact) == apply(state, full) else full
