"""Finding the recovery instances DRS did not name: bounded looks that back off.

DescribeJobs often leaves ``recoveryInstanceID`` out, even for a LAUNCHED server of a COMPLETED job,
and DescribeRecoveryInstances can list a new instance only some time after its job ended (reference
§12.5, §12.14). Cleanup can terminate only the instances the run knows, so the engine keeps looking
(DescribeRecoveryInstances by source server) until each is known, at growing intervals
(``INSTANCE_LOOK_FIRST_INTERVAL`` doubling up to ``INSTANCE_LOOK_MAX_INTERVAL``, with the seeded jitter
of ``engine.polling``), for at most ``INSTANCE_LOOKS_MAX`` looks per server and job. Then it records
``InstancesNotFound`` and goes on, and every view says which instance could not be found.

A failed launch can leave an instance too: a FAILED server whose job log shows LAUNCH_START (DRS began
to launch its EC2 instance) is looked for ``INSTANCE_LOOKS_AFTER_FAILURE`` times, once its job has
ended; finding none there is the usual case, not a problem to report. Only instances whose job is one of
this execution's are taken (``observe.record_instance``). Looks run while the run goes on; the run does
not finish, and cleanup does not terminate, while any is pending (``engine.decide``). Pure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from drs_desktop.domain.engine.instance_events import InstancesNotFound
from drs_desktop.domain.engine.memo import LastOf
from drs_desktop.domain.engine.polling import jitter
from drs_desktop.domain.engine.queries import job_active, server_settled
from drs_desktop.domain.engine.state import ExecutionState, ServerState, ServerStatus

#: The second look comes this long after the first; each later gap doubles, up to the max.
INSTANCE_LOOK_FIRST_INTERVAL = timedelta(seconds=15)
INSTANCE_LOOK_MAX_INTERVAL = timedelta(minutes=5)
#: Looks for a launched server's instance before ``InstancesNotFound`` (about 18 minutes in all).
INSTANCE_LOOKS_MAX = 8
#: Looks for the instance a failed launch may have left (DRS usually removes it).
INSTANCE_LOOKS_AFTER_FAILURE = 2
#: Each gap is spread by this fraction either way, so many runs do not look in step.
INSTANCE_LOOK_JITTER = 0.2


def known_instances(state: ExecutionState) -> set[tuple[str, str]]:
    """(server, job) of every recorded instance of this execution."""
    return {(i.server_id, i.job_id) for i in state.instances.values()}


def instance_known(server: ServerState, known: set[tuple[str, str]]) -> bool:
    if server.recovery_instance_id is not None:
        return True
    return server.job_id is not None and (server.server_id, server.job_id) in known


def looks_made(server: ServerState) -> int:
    """Looks for the instance of the server's current job."""
    return server.instance_looks if server.instance_lookup_job == server.job_id else 0


def look_bound(state: ExecutionState, server: ServerState) -> int:
    """How many looks the server's instance gets now: 0 while none is due (no instance expected, or its
    job may still name it)."""
    if server.job_id is None:
        return 0
    job = state.jobs[server.job_id]
    if server.launched_at is not None and server.status in (ServerStatus.LAUNCHED, ServerStatus.FAILED):
        members = state.chunks[job.chunk_id].server_ids
        if not job_active(job) or all(server_settled(state, state.servers[s]) for s in members):
            return INSTANCE_LOOKS_MAX
        return 0
    if server.status is ServerStatus.FAILED and not job_active(job) and job.log_version >= job.version:
        return INSTANCE_LOOKS_AFTER_FAILURE if "LAUNCH_START" in server.phase_times else 0
    return 0


_UNKNOWN: LastOf[str, list[tuple[ServerState, int]]] = LastOf()


def _unknown(state: ExecutionState) -> list[tuple[ServerState, int]]:
    """Servers whose instance is not known and is looked for now, with their bound of looks
    (remembered for the last state: each decision asks several times, ``engine.memo``)."""
    return _UNKNOWN(state, "", lambda: _find_unknown(state))


def _find_unknown(state: ExecutionState) -> list[tuple[ServerState, int]]:
    known = known_instances(state)
    found = []
    for server in state.servers.values():
        if server.job_id is None or instance_known(server, known):
            continue
        bound = look_bound(state, server)
        if bound:
            found.append((server, bound))
    return found


def next_look_at(state: ExecutionState, server: ServerState) -> datetime | None:
    """When the next look for the server's instance is due (None: the first, at once)."""
    looks = looks_made(server)
    if looks == 0 or server.instance_looked_at is None:
        return None
    return server.instance_looked_at + look_gap(state.spec.jitter_seed, f"{server.server_id}:instance", looks)


def look_gap(seed: str, key: str, looks: int) -> timedelta:
    """The wait after ``looks`` fruitless looks: doubling from the first interval up to the max, spread
    by the seeded jitter (``key`` tells the series apart)."""
    step = min(INSTANCE_LOOK_MAX_INTERVAL, INSTANCE_LOOK_FIRST_INTERVAL * 2 ** min(looks - 1, 20))
    draw = jitter(f"{seed}:{key}", looks)
    return step * (1.0 + INSTANCE_LOOK_JITTER * (2 * draw - 1))


def lookups_pending(state: ExecutionState) -> tuple[str, ...]:
    """Servers whose instance is still looked for, or whose fruitless looks are not yet recorded."""
    pending = []
    for server, bound in _unknown(state):
        if looks_made(server) < bound:
            pending.append(server.server_id)
        elif server.launched_at is not None and not server.instance_not_found:
            pending.append(server.server_id)
    return tuple(pending)


def lookups_due(state: ExecutionState, now: datetime) -> tuple[str, ...]:
    """Servers whose next look is due at ``now``."""
    due = []
    for server, bound in _unknown(state):
        if looks_made(server) >= bound:
            continue
        at = next_look_at(state, server)
        if at is None or at <= now:
            due.append(server.server_id)
    return tuple(due)


def next_lookup_at(state: ExecutionState) -> datetime | None:
    times = [
        at
        for server, bound in _unknown(state)
        if looks_made(server) < bound and (at := next_look_at(state, server)) is not None
    ]
    return min(times) if times else None


def lookups_exhausted(state: ExecutionState) -> tuple[str, ...]:
    """Launched servers whose looks reached the bound without finding the instance, not yet recorded."""
    return tuple(
        server.server_id
        for server, bound in _unknown(state)
        if server.launched_at is not None and looks_made(server) >= bound and not server.instance_not_found
    )


def on_instances_not_found(state: ExecutionState, event: InstancesNotFound) -> ExecutionState:
    marked = [
        replace(state.servers[s], instance_not_found=True)
        for s in event.server_ids
        if s in state.servers and state.servers[s].instance_lookup_job == state.servers[s].job_id
    ]
    return state.with_servers(*marked)


def instances_not_found(state: ExecutionState) -> tuple[tuple[str, int], ...]:
    """(server, looks) of every launched server whose instance DRS never showed this run, in plan order:
    cleanup cannot terminate it, so every view says so."""
    known = known_instances(state)
    missing = []
    for wave in state.spec.waves:
        for server_id in wave.server_ids:
            server = state.servers[server_id]
            if server.instance_not_found and not instance_known(server, known):
                missing.append((server_id, server.instance_looks))
    return tuple(missing)


def not_found_text(server_id: str, looks: int) -> str:
    return f"instance of {server_id} not found in DRS after {looks} looks"


def survey_not_found(state: ExecutionState) -> tuple[str, ...]:
    """Instances a job of this execution launched that cleanup's looks at DRS never found listed."""
    if not state.cleanup_surveyed:
        return ()
    said = {(s, state.servers[s].job_id) for s, _ in instances_not_found(state)}  # said there already
    return tuple(
        f"instance of {server_id} from job {job_id} not found in DRS after {state.survey_looks} looks"
        for server_id, job_id in state.survey_unfound
        if (server_id, job_id) not in said
    )
