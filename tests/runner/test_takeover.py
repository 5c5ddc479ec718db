"""Taking a run over from a silent desktop, on the simulator (real runner, boto3 client, virtual clock).

The taking desktop holds the journal only as of the silent desktop's last push: here a copy of the
database whose journal is cut before the StartRequested events the first desktop journaled. The takeover
must find in DRS's records what the first desktop launched, adopt it, and launch every server once.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.engine.commands import job_tags
from drs_desktop.domain.engine.events import (
    Event,
    JobStarted,
    Outcome,
    RunnerRestarted,
    StartRequested,
    TakenOver,
    event_from_json,
)
from drs_desktop.domain.engine.reconcile_events import StartsReconciled
from drs_desktop.domain.engine.takeover import TakeoverFacts
from drs_desktop.domain.views.event_log import journal_log
from drs_desktop.services.reports import load_execution_view, render
from drs_desktop.services.runner import ExecutionRunner
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage.db import Database

from .conftest import ids, shop_plan
from .harness import Recorder, Run, engine_gateway, start_run

FACTS = TakeoverFacts(by="desk-b", previous="desk-a", operator="ana", journal_complete=False)


@pytest.fixture
def second_home(tmp_path: Path) -> Path:
    return tmp_path / "desk-b" / "drs-desktop.sqlite3"


def synced_copy(db: Database, path: Path, execution_id: str, keep_before: int | None) -> Database:
    """The database as the taking desktop holds it: the whole of ``db``, the journal cut before entry
    ``keep_before`` (the silent desktop's last push came before it)."""
    path.parent.mkdir(parents=True)
    target = sqlite3.connect(path)
    with db.reader() as conn:
        conn.backup(target)
    if keep_before is not None:
        with target:
            target.execute(
                "DELETE FROM execution_events WHERE execution_id = ? AND seq >= ?",
                (execution_id, keep_before),
            )
    target.close()
    return Database.open(path)


def first_seq(db: Database, execution_id: str, kind: str) -> int:
    with db.reader() as conn:
        row = conn.execute(
            "SELECT MIN(seq) FROM execution_events WHERE execution_id = ? AND type = ?", (execution_id, kind)
        ).fetchone()
    assert row[0] is not None, f"no {kind} journaled"
    return int(row[0])


def take_over(db: Database, gateway: DrsGateway, sim: EmbeddedSimulator, execution_id: str) -> Run:
    runner = ExecutionRunner.resume(db, gateway, execution_id, clock=sim.clock.now, takeover=FACTS)
    recorder = Recorder(sim)
    runner.add_listener(recorder.listener)
    return Run(sim, runner, recorder)


def journal_events(db: Database, execution_id: str) -> list[Event]:
    with db.reader() as conn:
        rows = conn.execute(
            "SELECT payload FROM execution_events WHERE execution_id = ? ORDER BY seq", (execution_id,)
        ).fetchall()
    return [event_from_json(json.loads(row[0])) for row in rows]


def launches(sim: EmbeddedSimulator) -> Counter[str]:
    return Counter(r.source_server_id for r in sim.backend.launch_records())


@pytest.fixture
def gw(sim: EmbeddedSimulator) -> DrsGateway:
    return engine_gateway(sim)


@pytest.fixture
def opened() -> Iterator[list[Database]]:
    databases: list[Database] = []
    yield databases
    for database in databases:
        database.close()


def test_jobs_the_silent_desktop_started_after_its_last_push_are_adopted_not_launched_again(
    db: Database, gw: DrsGateway, sim: EmbeddedSimulator, second_home: Path, opened: list[Database]
) -> None:
    plan = shop_plan(sim, approval=False)
    first = start_run(db, gw, sim, plan)
    execution_id = first.runner.execution_id
    first.run(until=lambda: len(first.recorder.of(JobStarted)) >= 2)  # waves 1 and 2 launched in DRS
    assert len(sim.backend.launch_records()) == 3
    copy = synced_copy(db, second_home, execution_id, first_seq(db, execution_id, "StartRequested"))
    opened.append(copy)
    second = take_over(copy, gw, sim, execution_id)  # the first desktop is silent from here on
    taken = second.state.takeovers[-1]
    assert taken.unchecked == ("1.1", "2.1", "3.1") and second.state.chunks["1.1"].attempt == 0

    result = second.run()

    assert result.outcome is Outcome.SUCCEEDED
    assert set(launches(sim).values()) == {1} and len(launches(sim)) == 5, launches(sim)
    assert sim.backend.request_counts()["StartRecovery"] == 3  # 2 + wave 3
    first_jobs = {r.source_server_id: r.job_id for r in sim.backend.launch_records()}
    for server_id in ids(sim, "shop-db-01", "shop-app-01", "shop-app-02"):
        assert second.state.servers[server_id].job_id == first_jobs[server_id]  # adopted
    kinds = [type(e).__name__ for e in second.recorder.events]
    assert kinds.index("StartsReconciled") < kinds.index("StartRequested")  # looked before any launch
    journaled = journal_events(copy, execution_id)
    took = [e for e in journaled if isinstance(e, TakenOver)]
    assert len(took) == 1 and (took[0].by, took[0].previous, took[0].journal_complete) == (
        "desk-b",
        "desk-a",
        False,
    )
    assert isinstance(journaled[journaled.index(took[0]) - 1], RunnerRestarted)


def test_with_nothing_launched_after_the_cut_chunks_start_once_after_the_settle(
    db: Database, gw: DrsGateway, sim: EmbeddedSimulator, second_home: Path, opened: list[Database]
) -> None:
    first = start_run(db, gw, sim, shop_plan(sim, approval=False))
    execution_id = first.runner.execution_id  # created, never driven: the first desktop went silent
    copy = synced_copy(db, second_home, execution_id, None)
    opened.append(copy)
    second = take_over(copy, gw, sim, execution_id)

    assert second.run().outcome is Outcome.SUCCEEDED

    (took,) = [e for e in journal_events(copy, execution_id) if isinstance(e, TakenOver)]
    (first_start, *_) = second.recorder.of(StartRequested)
    assert first_start.at >= took.at + second.state.spec.start_settle  # DRS's time, past the settle
    looks = second.recorder.of(StartsReconciled)
    assert looks[0].at == took.at and len(looks) >= 2  # first look right away, then until settled
    assert all(not look.tagged_jobs for look in looks)
    assert set(launches(sim).values()) == {1} and len(launches(sim)) == 5
    assert all(c.failures == 0 for c in second.state.chunks.values())
    said = [line.text for line in journal_log(second.state.spec, journal_events(copy, execution_id))]
    assert "checking DRS's records after taking over from desktop desk-a: 3 chunk(s)" in said, said
    assert any("the previous driver never started it" in line for line in said), said


def test_a_job_of_a_chunk_this_journal_does_not_know_is_noted(
    db: Database, gw: DrsGateway, sim: EmbeddedSimulator, second_home: Path, opened: list[Database]
) -> None:
    first = start_run(db, gw, sim, shop_plan(sim, approval=False))
    execution_id = first.runner.execution_id
    stray_server = _outside_plan(sim)[0]  # the previous driver's retry: not in this journal at all
    stray = gw.start_recovery([stray_server], is_drill=True, tags=job_tags(execution_id, 0, "1.9", 1))
    copy = synced_copy(db, second_home, execution_id, None)
    opened.append(copy)
    second = take_over(copy, gw, sim, execution_id)

    assert second.run().outcome is Outcome.SUCCEEDED

    (record,) = second.state.takeovers
    assert [(j.job_id, j.chunk_id, j.server_ids) for j in record.unknown_jobs] == [
        (stray.job_id, "1.9", (stray_server,))
    ]
    assert stray.job_id not in second.state.jobs
    notes = [a for a in second.state.audit if a.action == "unknown job"]
    assert len(notes) == 1 and stray.job_id in notes[0].detail and stray_server in notes[0].detail
    # The evidence: the JSON document, the HTML page and the event log name the takeover and the job.
    view = load_execution_view(copy, execution_id)
    (taken,) = json.loads(render(view, "json"))["takeovers"]
    assert (taken["by"], taken["previous"], taken["operator"], taken["journal_complete"]) == (
        "desk-b",
        "desk-a",
        "ana",
        False,
    )
    assert taken["unknown_jobs"] == [
        {"job_id": stray.job_id, "chunk_id": "1.9", "server_ids": [stray_server]}
    ]
    page = render(view, "html")
    assert "Taken over from a silent desktop" in page and stray.job_id in page
    assert any(stray.job_id in line.text and "not adopted" in line.text for line in view.log)


def test_a_finished_execution_is_not_taken_over(
    db: Database, gw: DrsGateway, sim: EmbeddedSimulator, second_home: Path
) -> None:
    first = start_run(db, gw, sim, shop_plan(sim, approval=False))
    assert first.run().outcome is Outcome.SUCCEEDED
    with pytest.raises(ValueError, match="has finished"):
        ExecutionRunner.resume(db, gw, first.runner.execution_id, clock=sim.clock.now, takeover=FACTS)


def _outside_plan(sim: EmbeddedSimulator) -> list[str]:
    planned = {s for wave in shop_plan(sim).waves for s in wave.servers}
    return sorted(s for s in sim.backend.world.servers if s not in planned)
