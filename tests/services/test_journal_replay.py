"""services.journal_replay, the one way a journal is read and replayed, against journals of real runs
(tests/services/history_estate.py) damaged the way a newer version or a bad disk would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.domain.engine.journal_integrity import JournalTruncatedError, JournalUnreadableError
from drs_desktop.domain.engine.queries import execution_status
from drs_desktop.domain.engine.state import ExecutionStatus
from drs_desktop.domain.views.report import replay_trail
from drs_desktop.services.journal_replay import rebuild_journal, replay_journal
from drs_desktop.storage import executions as execution_store
from tests.services.history_estate import Estate, build_estate


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Estate]:
    with build_estate(tmp_path) as built:
        yield built


def _delete_entry(estate: Estate, execution_id: str, seq: int) -> None:
    with estate.db.transaction() as conn:
        conn.execute("DELETE FROM execution_events WHERE execution_id = ? AND seq = ?", (execution_id, seq))


def test_a_whole_journal_replays_to_the_state_the_runner_left(fresh: Estate) -> None:
    record = execution_store.get_execution(fresh.db, fresh.shop_left)
    replayed = replay_journal(fresh.db, record, whole=True)
    assert len(replayed.events) == record.event_count
    assert replayed.journal.warning is None
    assert execution_status(replayed.state) is ExecutionStatus.SUCCEEDED
    trail = rebuild_journal(fresh.db, record, replay_trail).state
    assert trail.state == replayed.state  # the report's rebuild of the same events agrees


def test_a_journal_cut_short_is_shown_with_a_warning_but_never_driven_on(fresh: Estate) -> None:
    record = execution_store.get_execution(fresh.db, fresh.fax_waiting)
    _delete_entry(fresh, fresh.fax_waiting, 2)
    shown = replay_journal(fresh.db, record)
    assert shown.journal.warning is not None and "entry 2 is missing" in shown.journal.warning
    with pytest.raises(JournalTruncatedError, match="cannot be resumed"):
        replay_journal(fresh.db, record, whole=True)


def test_an_entry_this_version_cannot_read_is_one_line_either_way(fresh: Estate) -> None:
    execution_store.append_events(fresh.db, fresh.fax_waiting, [{"type": "WaveTeleported", "at": None}])
    record = execution_store.get_execution(fresh.db, fresh.fax_waiting)
    for whole in (False, True):
        with pytest.raises(JournalUnreadableError, match="WaveTeleported"):
            replay_journal(fresh.db, record, whole=whole)
