"""Unfinished runs that cannot be picked up again in this session, and why. Pure.

At start the desktop resumes each unfinished run from its journal, driving it against the DRS it ran
against. That is only true for a run of the target the application is connected to now. A demo run's DRS
was the embedded simulator of the application that ran it: a new start makes a new world (a new world ID,
maybe on the same loopback port after a crash), so the run's jobs and instances are gone for good
(``gone``). A run against AWS seen from a demo session (or another Region, endpoint, profile or account)
is not gone, only elsewhere: it waits until the application runs against its own target again.
Neither may be resumed against the wrong DRS. Ending one:
``services.stranded_runs.abandon_execution``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from drs_desktop.domain.engine.queries import active_jobs, unresolved_chunks
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.domain.engine.takeover import unchecked_chunks
from drs_desktop.domain.views.drill_net_evidence import maybe_left_pointed

__all__ = [
    "DEMO_CLOSE_REASON",
    "SIMULATOR_WORLD_KEY",
    "StrandedRun",
    "is_loopback",
    "split_unfinished",
    "stranded",
    "what_is_in_drs",
]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

#: The recorded target's key for the simulator world a run ran in (absent: AWS, or an older record).
SIMULATOR_WORLD_KEY = "simulator_world"

#: The reason journaled for a demo execution the application was closed on (the close dialog says it).
DEMO_CLOSE_REASON = "the application was closed: the demo world ended with it"


@dataclass(frozen=True)
class StrandedRun:
    """An unfinished run this session will not resume, and why.

    For a run that is not gone (its DRS is only elsewhere), what its journal says may still be at work in
    that DRS: ending it from here leaves those unwatched (``in_drs``).
    """

    record: ExecutionRecord
    reason: str
    gone: bool  # its DRS world is gone for good: ending it is all that is left
    open_jobs: tuple[str, ...] = ()  # DRS jobs it had not seen end: they may still launch instances
    starts_in_doubt: int = 0  # StartRecovery calls whose answer never came: DRS may have started a job
    instances: tuple[str, ...] = ()  # recovery instances it launched and had not seen terminated
    #: Servers whose launch template a drill into the drill network may have left pointed there.
    templates_maybe_pointed: tuple[str, ...] = ()

    @property
    def in_drs(self) -> bool:
        """Something of this run may still be at work, or running, in its DRS (or its EC2)."""
        return bool(self.open_jobs or self.starts_in_doubt or self.instances or self.templates_maybe_pointed)


def what_is_in_drs(run: StrandedRun, state: ExecutionState) -> StrandedRun:
    """``run`` with what its journal (replayed into ``state``) says may still be in its DRS: jobs not seen
    to end, starts whose answer never came, and instances not seen terminated (a drill's are what its
    cleanup would terminate; a recovery's are production). Nothing for a run whose world is gone."""
    if run.gone:
        return run
    alive = [i for i in state.instances.values() if i.terminated_at is None and i.gone_at is None]
    return replace(
        run,
        open_jobs=tuple(job.job_id for job in active_jobs(state)),
        # A takeover's unchecked chunks may have been started by the silent desktop: in doubt too.
        starts_in_doubt=len(unresolved_chunks(state)) + len(unchecked_chunks(state)),
        instances=tuple(i.recovery_instance_id for i in alive),
        templates_maybe_pointed=maybe_left_pointed(state),
    )


def _target(record: ExecutionRecord) -> Mapping[str, Any]:
    target = record.options.get("target")
    return target if isinstance(target, Mapping) else {}


def is_loopback(endpoint: object) -> bool:
    return isinstance(endpoint, str) and bool(endpoint) and urlsplit(endpoint).hostname in _LOOPBACK


def _describe(endpoint: str | None, region: object, profile: object, account: object) -> str:
    where = f"the endpoint {endpoint}" if endpoint else "AWS"
    if region:
        where += f" in {region}"
    details = [f"profile {profile}" if profile else "the default credentials"]
    if account:
        details.append(f"account {account}")
    return f"{where}, {', '.join(details)}"


def stranded(record: ExecutionRecord, current: Mapping[str, Any]) -> StrandedRun | None:
    """Why ``record`` cannot be resumed against ``current``, or None.

    ``current``: the target of this session (``endpoint_url``, ``region``, ``profile``, and when known
    ``account`` and a simulator's ``simulator_world``). A run resumes only against its own endpoint, Region
    and profile, and its own account when both accounts are known: a profile of another account is another
    DRS. A run against a simulator resumes only in the very world it ran in (the same world ID): a later
    simulator on the same loopback port is another world.
    """
    ran = _target(record)
    endpoint, here = ran.get("endpoint_url") or None, current.get("endpoint_url") or None
    same_region = (ran.get("region") or None) in (None, current.get("region") or None)
    if is_loopback(endpoint):
        world = ran.get(SIMULATOR_WORLD_KEY) or None
        if endpoint == here and same_region and world == (current.get(SIMULATOR_WORLD_KEY) or None):
            return None
        why = (
            f"it ran against a DRS simulator at {endpoint} (a demo world), which ended with the application "
            "that ran it: its jobs and instances are gone with it, so it cannot be picked up again"
        )
        if endpoint == here:
            why += " (the simulator on that port now is another world)"
        return StrandedRun(record, why, gone=True)
    profile = ran.get("profile") or None
    account = record.identity.get("account") or None
    account_here = current.get("account") or None
    if (
        endpoint == here
        and same_region
        and profile == (current.get("profile") or None)
        and (account is None or account_here is None or account == account_here)
    ):
        return None
    own = _describe(endpoint, ran.get("region"), profile, account)
    if is_loopback(here):
        this = "the demo"
    else:
        this = _describe(here, current.get("region"), current.get("profile"), account_here)
    why = (
        f"it waits for its own target ({own}); this session runs against {this}: it is picked up again "
        "when the application runs against its target"
    )
    return StrandedRun(record, why, gone=False)


def split_unfinished(
    records: Iterable[ExecutionRecord], current: Mapping[str, Any]
) -> tuple[list[ExecutionRecord], list[StrandedRun]]:
    """(runs to resume against ``current``, runs that cannot be resumed here)."""
    resumable: list[ExecutionRecord] = []
    left: list[StrandedRun] = []
    for record in records:
        found = stranded(record, current)
        if found is None:
            resumable.append(record)
        else:
            left.append(found)
    return resumable, left
