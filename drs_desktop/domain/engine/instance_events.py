"""Events about this execution's recovery instances that are not answers to one call alone: the looks
for an instance DRS did not name ended without finding it, and what a look at DRS's jobs found for a
termination whose answer a crash cut off.

Frozen and JSON-serializable like every event (``engine.events``): add fields with defaults, never
repurpose one. What they mean is decided in ``engine.instances`` and ``engine.terminations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, kw_only=True)
class InstancesNotFound:
    """The engine's bounded looks (DescribeRecoveryInstances) ended without finding the recovery
    instance of these launched servers in their current job: the run goes on, and every view says which
    instance could not be found (cleanup cannot terminate what it does not know)."""

    server_ids: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, kw_only=True)
class FoundTerminateJob:
    """A TERMINATE job DRS listed that holds some of the instances of a cut-off termination."""

    job_id: str
    instance_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TerminationsReconciled:
    """After a crash between ``TerminateRequested`` and its answer: the TERMINATE jobs DRS lists since the
    intent that hold these instances (DRS puts no tags on a TERMINATE job). An instance in a job is
    followed through it; one in none is asked again (its attempt counted)."""

    instance_ids: tuple[str, ...]
    jobs: tuple[FoundTerminateJob, ...]
    at: datetime
    #: The DRS target it was read from or sent to ("" in a run of one target; ``engine.accounts``).
    target: str = ""
