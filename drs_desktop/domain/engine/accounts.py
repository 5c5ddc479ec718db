"""One execution across several DRS targets: what is per target, and how the engine looks at one.

A plan whose servers are in several accounts and Regions (plan format 2, ``domain.plan.targets``) runs as
ONE execution: one journal, one set of waves with their dependencies, approvals, waits, holds and
timeouts, one outcome. But each target is its own DRS: its own quotas (100 servers a job, 500 across
active jobs, 20 jobs), its own busy servers and throttling, its own job listing for reconcile and
cleanup, its own credentials. So:

- Every server is in one target (``ExecutionSpec.server_targets``, ``ServerState.target``); a chunk is
  one StartRecovery job in one target, so a wave is split per (wave, target) (``state.split_by_target``)
  and a wave spanning targets starts its jobs in every target as soon as each fits there.
- The per-account fields of ``ExecutionState`` (read pacing ``poll``, the account's load, cleanup's
  looks: ``state.AccountFields``) are those of the ``focus`` target; ``accounts`` keeps the others'.
- ``view(state, target)`` is the state as one target sees it: focused on it, with only its servers,
  chunks, jobs and instances (and its waves' server lists), and ``held`` carrying the one fact that
  is the whole run's (a critical failure anywhere holds every launch). ``engine.decide`` makes each
  target's DRS commands from its view and marks them with the target; the runner sends each to that
  target's gateway and journals the answer's events with the target.
- ``apply_in_target`` applies such an event to the target's view and merges the result back: every rule
  of the engine (what a listing that does not show a job means, which chunks a look at the account's load
  frees, which instances a cleanup survey found gone) then reads one account's answer against that
  account's servers only, with no rule written twice.
- An expired or refused credential (``StartFailed.auth``, ``TerminateFailed.auth``, a read refused as
  ``auth``) is never a failed launch: nothing launched, no attempt is spent. A role that needs no code is
  assumed again by the gateway itself; otherwise (``CredentialsNeeded``) the target's calls stop
  (``AccountFields.auth_problem``) and the run is held for a person, as for a critical failure: no new
  launch in any target, no wave timing out, while the other targets' jobs are still followed, until the
  operator renews them (``CredentialsRenewed``).

A run of one target (``ExecutionSpec.targets`` empty) never goes through this module: its state is what
it always was, and journals written before targets existed replay unchanged. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import fields, replace
from datetime import datetime
from typing import NamedTuple, TypeVar

from drs_desktop.domain.engine.memo import LastOf
from drs_desktop.domain.engine.state import (
    ACCOUNT_FIELDS,
    AccountFields,
    ExecutionSpec,
    ExecutionState,
    WaveSpec,
)

__all__ = [
    "CredentialHold",
    "account_of",
    "apply_in_target",
    "credential_holds",
    "credentials_wanted",
    "event_target",
    "focused",
    "in_target",
    "is_multi_target",
    "target_names",
    "view",
    "views",
]

T = TypeVar("T")


def is_multi_target(state: ExecutionState) -> bool:
    return bool(state.spec.targets)


def target_names(state: ExecutionState) -> tuple[str, ...]:
    """The run's targets in declaration order ("" alone for a run of one target)."""
    return state.spec.targets or ("",)


def _fields_of(state: ExecutionState) -> AccountFields:
    return AccountFields(**{name: getattr(state, name) for name in ACCOUNT_FIELDS})


def account_of(state: ExecutionState, target: str) -> AccountFields:
    """The per-account fields of ``target`` (a fresh set for a target not seen yet)."""
    if target == state.focus:
        return _fields_of(state)
    return state.accounts.get(target) or AccountFields()


def focused(state: ExecutionState, target: str) -> ExecutionState:
    """``state`` with ``target``'s account fields at the top level (the focus's kept in ``accounts``)."""
    if target == state.focus:
        return state
    accounts = dict(state.accounts)
    accounts[state.focus] = _fields_of(state)
    wanted = accounts.pop(target, None) or AccountFields()
    values = {name: getattr(wanted, name) for name in ACCOUNT_FIELDS}
    return replace(state, focus=target, accounts=accounts, **values)


_VIEWS: LastOf[tuple[str, bool], ExecutionState] = LastOf()
_SPEC_VIEWS: LastOf[str, ExecutionSpec] = LastOf()


def view(state: ExecutionState, target: str, held: bool) -> ExecutionState:
    """The state as ``target``'s DRS sees it (see the module docstring). ``held``: whether the whole run
    is held (``queries.is_held`` of the full state). Remembered for the last state asked about: one
    decision asks for each target's view, and applying its answer asks again (``engine.memo``)."""
    return _VIEWS(state, (target, held), lambda: _view(state, target, held))


def _spec_in(spec: ExecutionSpec, target: str) -> ExecutionSpec:
    """The spec with each wave's servers of ``target`` only (the spec does not change during a run)."""
    mine = {s for s, t in spec.server_targets.items() if t == target}
    return replace(spec, waves=tuple(_wave_in(wave, mine) for wave in spec.waves))


def _view(state: ExecutionState, target: str, held: bool) -> ExecutionState:
    spec = _SPEC_VIEWS(state.spec, target, lambda: _spec_in(state.spec, target))
    state = focused(state, target)
    servers = {k: s for k, s in state.servers.items() if s.target == target}
    chunks = {k: c for k, c in state.chunks.items() if c.target == target}
    jobs = {k: j for k, j in state.jobs.items() if j.chunk_id in chunks}
    instances = {k: i for k, i in state.instances.items() if i.server_id in servers}
    foreign = {k: i for k, i in state.foreign_instances.items() if i.server_id in servers}
    terminate_jobs = {
        k: j for k, j in state.terminate_jobs.items() if any(i in instances for i in j.instance_ids)
    }
    return replace(
        state,
        spec=spec,
        servers=servers,
        chunks=chunks,
        jobs=jobs,
        instances=instances,
        foreign_instances=foreign,
        terminate_jobs=terminate_jobs,
        held=held,
    )


def _wave_in(wave: WaveSpec, servers: Collection[str]) -> WaveSpec:
    return replace(
        wave,
        server_ids=tuple(s for s in wave.server_ids if s in servers),
        optional=tuple(s for s in wave.optional if s in servers),
        post_launch=tuple(s for s in wave.post_launch if s in servers),
    )


def views(state: ExecutionState, held: bool) -> list[tuple[str, ExecutionState]]:
    """(target, view) for every target of a run across targets; [("", state)] for a run of one."""
    if not is_multi_target(state):
        return [("", state)]
    return [(name, view(state, name, held)) for name in state.spec.targets]


def _merge(full: ExecutionState, part: ExecutionState, home: str) -> ExecutionState:
    """``full`` with what an event changed in one target's view ``part`` (nothing is ever removed from
    these maps), the account fields back under their target, and the focus back home."""
    merged = replace(
        part,
        spec=full.spec,
        servers={**full.servers, **part.servers},
        chunks={**full.chunks, **part.chunks},
        jobs={**full.jobs, **part.jobs},
        instances={**full.instances, **part.instances},
        foreign_instances={**full.foreign_instances, **part.foreign_instances},
        terminate_jobs={**full.terminate_jobs, **part.terminate_jobs},
        held=None,
    )
    return focused(merged, home)


def event_target(event: object) -> str | None:
    """The target an event is about (None: the whole run's, such as an operator's control)."""
    target = getattr(event, "target", None)
    return target if isinstance(target, str) else None


def apply_in_target(
    state: ExecutionState,
    event: T,
    fold: Callable[[ExecutionState, T], ExecutionState],
    held: Callable[[ExecutionState], bool],
) -> ExecutionState:
    """``fold(state, event)`` where ``event`` came from one target of a run across targets: applied to
    that target's view, then merged back. Anything else is folded as it is."""
    target = event_target(event)
    if not is_multi_target(state) or target is None or target not in state.spec.targets:
        return fold(state, event)
    home = state.focus
    part = fold(view(state, target, held(state)), event)
    return _merge(state, part, home)


def in_target(command: T, target: str) -> T:
    """``command`` marked with the target it is for (a ``Record``'s event too); unchanged in a run of
    one target or for a command that is the whole run's."""
    if not target:
        return command
    names = {item.name for item in fields(command)}  # type: ignore[arg-type]
    if "target" in names:
        return replace(command, target=target)  # type: ignore[type-var]
    event = getattr(command, "event", None)
    if event is not None and "target" in {item.name for item in fields(event)}:
        return replace(command, event=replace(event, target=target))  # type: ignore[type-var]
    return command


# -- credentials


class CredentialHold(NamedTuple):
    """A target whose calls wait for new credentials: why, and since when."""

    target: str
    problem: str
    since: datetime | None


def credentials_wanted(state: ExecutionState, problem: str, at: datetime) -> ExecutionState:
    """The focused target's calls stop until the operator renews its credentials (the first problem is
    kept: it is the one the operator must act on)."""
    if state.auth_problem:
        return state
    return replace(state, auth_problem=problem or "credentials refused", auth_since=at)


def credential_holds(state: ExecutionState) -> tuple[CredentialHold, ...]:
    """Every target waiting for new credentials, in the run's target order."""
    if not state.auth_problem and not any(fields_.auth_problem for fields_ in state.accounts.values()):
        return ()  # the common case, asked on every decision (``queries.is_held``)
    holds = []
    for name in target_names(state):
        fields_ = account_of(state, name)
        if fields_.auth_problem:
            holds.append(CredentialHold(name, fields_.auth_problem, fields_.auth_since))
    return tuple(holds)
