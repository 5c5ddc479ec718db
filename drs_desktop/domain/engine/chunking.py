"""DRS's job quotas, in one place: splitting a wave into jobs and admitting jobs before any call fails.

DRS limits (reference §7; none adjustable): at most 100 servers in one StartRecovery job, 500 servers
across all active jobs, 20 concurrent jobs, and one active job per source server. A wave bigger than
one job is split into chunks; a chunk starts only when it fits beside everything already running, both
this execution's jobs and the load the runner observed outside it. Queueing here is what keeps DRS from
answering ServiceQuotaExceeded or Conflict in the first place. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from drs_desktop.domain.plan.model import MAX_SERVERS_PER_JOB

#: Servers across all active jobs of an account (quota L-05AFA8C6).
MAX_SERVERS_IN_ACTIVE_JOBS = 500
#: Concurrent jobs in progress (quota L-D88FAC3A).
MAX_CONCURRENT_JOBS = 20


@dataclass(frozen=True)
class Limits:
    """The quotas the engine plans against; parameters so tests and odd accounts can change them."""

    max_servers_per_job: int = MAX_SERVERS_PER_JOB
    max_servers_in_active_jobs: int = MAX_SERVERS_IN_ACTIVE_JOBS
    max_concurrent_jobs: int = MAX_CONCURRENT_JOBS

    def __post_init__(self) -> None:
        if min(self.max_servers_per_job, self.max_servers_in_active_jobs, self.max_concurrent_jobs) < 1:
            raise ValueError(f"every limit must be at least 1: {self}")

    @property
    def chunk_size(self) -> int:
        """A chunk must fit in one job and, alone, in the account-wide budget, or it could never start."""
        return min(self.max_servers_per_job, self.max_servers_in_active_jobs)


@dataclass(frozen=True)
class Load:
    """What is active in the account right now: jobs, servers in them, and which servers are busy."""

    jobs: int = 0
    servers: int = 0
    busy: frozenset[str] = field(default_factory=frozenset)

    def plus(self, server_ids: Sequence[str]) -> Load:
        return Load(self.jobs + 1, self.servers + len(server_ids), self.busy | frozenset(server_ids))


@dataclass(frozen=True)
class Candidate:
    """A queued chunk that wants to start."""

    chunk_id: str
    server_ids: tuple[str, ...]


def split_servers(server_ids: Sequence[str], size: int) -> tuple[tuple[str, ...], ...]:
    """Consecutive chunks of at most ``size`` servers, in order: 250 servers by 100 -> 100, 100, 50.

    Greedy rather than balanced so chunk N of a wave is the same servers whatever the wave's size,
    which keeps the progress view and the evidence easy to read.
    """
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    return tuple(tuple(server_ids[i : i + size]) for i in range(0, len(server_ids), size))


def own_and_external_load(
    own_jobs: Iterable[Sequence[str]], external_jobs: int, external_busy: Iterable[str]
) -> Load:
    """The account's load: this execution's active (or possibly active) jobs plus what is outside it.

    External busy servers count toward the 500-server budget one each, and block those servers.
    """
    busy = frozenset(external_busy)
    load = Load(external_jobs, len(busy), busy)
    for servers in own_jobs:
        load = load.plus(servers)
    return load


def admit(candidates: Iterable[Candidate], load: Load, limits: Limits) -> tuple[str, ...]:
    """The chunk IDs that may start now, in the order given, each counted against the limits.

    A chunk that does not fit (too many servers for what is left, or a server already in an active
    job) waits, but smaller chunks behind it may still start: one busy server must not stall a whole
    wave. Nothing more starts once the job count is at its limit.
    """
    admitted: list[str] = []
    for candidate in candidates:
        if load.jobs >= limits.max_concurrent_jobs:
            break
        if len(candidate.server_ids) > limits.max_servers_per_job:
            continue  # never happens with split_servers; refuse rather than earn a 402
        if load.servers + len(candidate.server_ids) > limits.max_servers_in_active_jobs:
            continue
        if load.busy.intersection(candidate.server_ids):
            continue
        admitted.append(candidate.chunk_id)
        load = load.plus(candidate.server_ids)
    return tuple(admitted)
