"""Unfinished runs that cannot be picked up again here, and ending one with its reason journaled.

Which unfinished runs this session cannot resume, and why: ``domain.views.stranded``.

``abandon_execution`` ends such a run: it journals ``ExecutionAbandoned`` (``engine.abandon``) with the
operator's reason under the run's driver lock, so a run that some process drives is never ended under it,
and the listing says how it ended, in the same transaction. After that it is finished, so no start picks
it up again. A run whose journal finished while its listing did not (a crash between two writes) gets its
listing from its journal instead of a refusal, so it never stays listed forever.
"""

from __future__ import annotations

import logging
from datetime import datetime

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.end_events import ExecutionAbandoned
from drs_desktop.domain.engine.events import event_to_json
from drs_desktop.domain.engine.queries import execution_status
from drs_desktop.domain.engine.record import ExecutionRecord
from drs_desktop.domain.engine.reducer import apply
from drs_desktop.domain.engine.state import ExecutionState
from drs_desktop.domain.errors import DrsDesktopError
from drs_desktop.domain.views.stranded import (
    DEMO_CLOSE_REASON,
    SIMULATOR_WORLD_KEY,
    StrandedRun,
    split_unfinished,
    stranded,
    what_is_in_drs,
)
from drs_desktop.services.driver_lock import take_driver_lock
from drs_desktop.services.journal_replay import replay_journal
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database

logger = logging.getLogger(__name__)

__all__ = [
    "AbandonRefusedError",
    "StrandedRun",
    "abandon_execution",
    "end_demo_execution",
    "split_unfinished",
    "stranded",
    "target_here",
    "what_is_in_drs",
]


class AbandonRefusedError(DrsDesktopError):
    """The run cannot be ended this way (it has finished, or the reason is empty)."""


def abandon_execution(
    db: Database, execution_id: str, reason: str, *, by: str, at: datetime
) -> ExecutionRecord:
    """Journal ``ExecutionAbandoned`` for an unfinished run and update its listing; the record after.

    DriverBusyError (nothing journaled) while another process drives it; AbandonRefusedError when it has
    finished or no reason is given. A finished journal under an unfinished listing: the listing is
    repaired from the journal (nothing journaled) and the record returned.
    """
    reason = reason.strip()
    if not reason:
        raise AbandonRefusedError("say why the run is ended: the reason is kept in its journal and report")
    lock = take_driver_lock(db.path, execution_id)
    try:
        record = journal.get_execution(db, execution_id)
        replayed = replay_journal(db, record)
        state = replayed.state
        if state.finished is not None:
            if not record.finished:
                return _repair_listing(db, record, state)
            raise AbandonRefusedError(
                f"execution {execution_id} has already finished ({state.finished.value})"
            )
        last = replayed.journal.entries[-1].seq if replayed.journal.entries else 0
        # Never before what the journal already holds: a demo world's clock restarts at its own start.
        moment = max([at, state.spec.started_at, *(e.at for e in replayed.events[-1:])])
        event = ExecutionAbandoned(reason=reason, at=moment, by=by)
        after = apply(state, event)
        assert after.finished is not None
        with db.transaction():  # both or neither: a journal that ended under a RUNNING listing is stuck
            journal.append_events(db, execution_id, [event_to_json(event)], expected_last=last)
            journal.set_execution_status(
                db,
                execution_id,
                execution_status(after).value,
                outcome=after.finished.value,
                finished_at=after.finished_at,
            )
        logger.warning("execution %s abandoned by %s: %s", execution_id, by, reason)
        return journal.get_execution(db, execution_id)
    finally:
        lock.release()


def _repair_listing(db: Database, record: ExecutionRecord, state: ExecutionState) -> ExecutionRecord:
    """A finished journal under an unfinished listing (a crash between the two writes of an older
    version): the journal is the truth, so the listing takes its status, outcome and end time."""
    assert state.finished is not None
    journal.set_execution_status(
        db,
        record.execution_id,
        execution_status(state).value,
        outcome=state.finished.value,
        finished_at=state.finished_at,
    )
    logger.warning(
        "execution %s: its journal had finished (%s) but its listing said %s; listing repaired",
        record.execution_id,
        state.finished.value,
        record.status,
    )
    return journal.get_execution(db, record.execution_id)


def target_here(gateway: DrsGateway) -> dict[str, str | None]:
    """The target this session runs against, as ``views.stranded`` compares it with a run's: endpoint,
    profile and Region, the account when STS answers, and a simulator's world ID."""
    target = gateway.target
    try:
        account: str | None = gateway.caller_identity().account or None
    except DrsDesktopError as exc:  # unknown: the account is compared only when both are known
        logger.info("the account of %s is not known: %s", target.describe(), exc)
        account = None
    return {
        "endpoint_url": target.endpoint_url,
        "profile": target.profile,
        "region": target.region,
        "account": account,
        SIMULATOR_WORLD_KEY: gateway.simulator_world(),
    }


def end_demo_execution(db: Database, execution_id: str, *, by: str, at: datetime) -> None:
    """At shutdown in demo mode: end an execution the loops drove, as the close dialog promised (the
    simulator's world ends with the application). A failure is logged: the next start lists the run."""
    try:
        abandon_execution(db, execution_id, DEMO_CLOSE_REASON, by=by, at=at)
    except DrsDesktopError as exc:
        logger.warning("demo execution %s not ended at close: %s", execution_id, exc)
