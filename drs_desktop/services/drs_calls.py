"""``DrsCalls``: what the execution runner and ``drs_records`` need of DRS, and nothing more.

``aws.drs.DrsGateway`` satisfies it structurally (boto3 over HTTP, against AWS or the simulator). The
engine's tests satisfy it in process with the simulator's own backend (the same world, quotas, faults and
virtual clock, no HTTP), so the invariants are proven on the runner that ships. Answers are the frozen
views of ``domain.drs.views``; failures are the ``DrsError`` family of ``domain.drs.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from drs_desktop.domain.drs.views import DrsJobView, JobLogEntry, LastLaunchView, RecoveryInstanceView


class DrsTime(Protocol):
    """DRS's own time as the gateway has seen it (``aws.drs_clock.DrsClock``)."""

    @property
    def anchored(self) -> bool: ...

    def now(self) -> datetime: ...


class DrsCalls(Protocol):
    """The DRS calls of one execution's runner."""

    @property
    def drs_clock(self) -> DrsTime: ...

    def with_single_attempt_reads(self) -> DrsCalls:
        """The same DRS, with no in-call retries of reads (the engine paces its own)."""
        ...

    def sync_clock(self) -> datetime | None:
        """One cheap read so that ``drs_clock`` knows DRS's time."""
        ...

    def close(self) -> None:
        """Close the clients and their session; the next call makes new ones (new credentials)."""
        ...

    def last_answer_time(self) -> datetime | None:
        """DRS's time of the last answer the calling thread received."""
        ...

    def start_recovery(
        self,
        server_ids: Sequence[str],
        *,
        is_drill: bool,
        tags: Mapping[str, str],
        snapshot_ids: Mapping[str, str] | None = None,
    ) -> DrsJobView: ...

    def terminate_recovery_instances(self, recovery_instance_ids: Sequence[str]) -> DrsJobView: ...

    def describe_jobs(self, job_ids: Sequence[str]) -> list[DrsJobView]: ...

    def jobs_since(self, from_dt: datetime, to_dt: datetime | None = None) -> list[DrsJobView]: ...

    def job_log(self, job_id: str) -> list[JobLogEntry]: ...

    def last_launches(self, ids: Sequence[str]) -> list[LastLaunchView]: ...

    def describe_recovery_instances(
        self,
        source_server_ids: Sequence[str] | None = None,
        instance_ids: Sequence[str] | None = None,
    ) -> list[RecoveryInstanceView]: ...
