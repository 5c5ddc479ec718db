"""A finding added after a run reaches a teammate's desktop through team sync (moto's DynamoDB server),
shows in its fold, and is skipped by a teammate's older build ("core": false travels); the teammate
cannot annotate a run of another desktop, and is told which desktop can."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.domain.engine import journal_integrity
from drs_desktop.domain.engine.annotation_events import FindingAdded, TestRecorded
from drs_desktop.domain.engine.events import ANNOTATION_TYPES, EVENT_TYPES, Outcome
from drs_desktop.services import audit
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from tests.sync.desktops import Desktop, desktop, init_table
from tests.sync.dynamodb_emulator import DynamoDbEmulator

from .annot_world import advance, new_run, shop_plan


@pytest.fixture
def dynamodb() -> Iterator[DynamoDbEmulator]:
    emulator = DynamoDbEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def two(tmp_path: Path, dynamodb: DynamoDbEmulator) -> Iterator[tuple[Desktop, Desktop]]:
    init_table(dynamodb)
    a, b = desktop(tmp_path, "a", dynamodb), desktop(tmp_path, "b", dynamodb)
    yield a, b
    a.db.close()
    b.db.close()


def test_a_finding_after_the_run_reaches_a_teammate_and_an_older_build_skips_it(
    two: tuple[Desktop, Desktop], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = two
    with EmbeddedSimulator("small", seed=7) as sim:
        runner = new_run(a.db, sim, shop_plan(sim))
        assert runner.run(sleep=advance(sim), max_steps=5000).outcome is Outcome.SUCCEEDED
    execution_id = runner.execution_id
    a.service.sync_now()
    b.service.sync_now()
    assert audit.audit_of(b.db, execution_id).findings == ()

    added = audit.add_finding(
        a.db, execution_id, text="DNS cut-over was manual", severity="medium", by="dana"
    )
    assert added.journaled
    report = a.service.sync_now()
    assert report.pushed.get("journal pages") == 1  # the finding, queued for sync by its append
    b.service.sync_now()

    found = audit.audit_of(b.db, execution_id)
    assert [f.finding_id for f in found.findings] == [added.event.finding_id]
    assert found.findings[0].text == "DNS cut-over was manual"
    assert isinstance(found.test, TestRecorded)
    pulled = journal.load_journal(b.db, execution_id)
    assert pulled[-1].type == "FindingAdded" and pulled[-1].payload["core"] is False

    # A teammate's older build knows none of the annotation types: it skips them and reads the rest.
    older = {name: kind for name, kind in EVENT_TYPES.items() if kind not in ANNOTATION_TYPES}
    monkeypatch.setattr(journal_integrity, "EVENT_TYPES", older)
    read = journal.read_journal(b.db, journal.get_execution(b.db, execution_id))
    assert read.damage is None
    assert not any(isinstance(e, FindingAdded | TestRecorded) for e in read.events)
    annotations = [entry for entry in pulled if entry.payload.get("core") is False]
    assert len(annotations) >= 3  # the test record, the recovery points, the finding
    assert len(read.events) == len(pulled) - len(annotations)
    monkeypatch.undo()

    # B did not run it: its journal is A's to append to. Refused, naming A; nothing journaled on B.
    with pytest.raises(audit.AnnotationRefused, match=f"desktop {a.desktop_id}"):
        audit.add_finding(b.db, execution_id, text="seen from B", severity="low")
    assert len(journal.load_journal(b.db, execution_id)) == len(pulled)
