"""Reading a journal back: what counts as cut short (and what does not), and one line per unreadable entry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from drs_desktop.domain.engine.annotation_events import FindingAdded, Severity
from drs_desktop.domain.engine.events import (
    ANNOTATION_TYPES,
    CORE_KEY,
    ExecutionFinished,
    JobStarted,
    Outcome,
    StartRequested,
    event_from_json,
    event_to_json,
    is_core,
)
from drs_desktop.domain.engine.journal_integrity import (
    JournalTruncatedError,
    JournalUnreadableError,
    decode_entries,
    missing_entries,
    read_entries,
)
from drs_desktop.domain.engine.record import ExecutionRecord, JournalEntry

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ID = "0f8b2c1e-1111-4222-8333-944455556666"


def record(*, finished: bool = False) -> ExecutionRecord:
    return ExecutionRecord(
        execution_id=ID,
        plan_id="p",
        plan_revision_id="r",
        plan_name="Shop",
        plan_revision=1,
        mode="DRILL",
        status="SUCCEEDED" if finished else "RUNNING",
        started_at=T0,
        outcome="SUCCEEDED" if finished else None,
        finished_at=T0 if finished else None,
    )


def entry(seq: int, payload: Mapping[str, Any]) -> JournalEntry:
    return JournalEntry(seq, str(payload.get("type")), T0, payload)


def entries(*payloads: Mapping[str, Any], start: int = 1) -> list[JournalEntry]:
    return [entry(seq, payload) for seq, payload in enumerate(payloads, start=start)]


START = event_to_json(StartRequested(chunk_id="w0.c0", at=T0))
STARTED = event_to_json(JobStarted(chunk_id="w0.c0", job_id="drsjob-1", at=T0))
FINISHED = event_to_json(ExecutionFinished(outcome=Outcome.SUCCEEDED, at=T0))


def test_an_intent_without_its_result_is_not_damage() -> None:
    # What a crash between StartRequested and JobStarted leaves: normal, the engine reconciles it.
    assert missing_entries(record(), entries(START)) is None
    assert missing_entries(record(), []) is None  # created, nothing journaled yet
    assert missing_entries(record(finished=True), entries(START, STARTED, FINISHED)) is None


@pytest.mark.parametrize(
    ("seqs", "expected"),
    [
        ([1, 2, 4], "entry 3 is missing"),
        ([1, 5, 6], "entries 2 to 4 are missing"),
        ([3, 4], "entries 1 to 2 are missing"),
        ([1, 1, 2], "entry 1 appears twice"),
    ],
)
def test_a_gap_in_the_numbering_is_damage(seqs: list[int], expected: str) -> None:
    assert missing_entries(record(), [entry(seq, START) for seq in seqs]) == expected


def test_a_finished_listing_without_the_finish_in_the_journal_is_damage() -> None:
    assert missing_entries(record(finished=True), entries(START, STARTED)) == (
        "the execution is recorded as finished (SUCCEEDED) but its journal ends at entry 2 without the finish"
    )
    assert missing_entries(record(finished=True), []) == (
        "the execution is recorded as finished (SUCCEEDED) but its journal is empty without the finish"
    )


def test_a_cut_short_journal_can_be_read_but_not_driven() -> None:
    read = read_entries(record(), [entry(1, START), entry(3, STARTED)])
    assert len(read.events) == 2
    assert read.warning == (
        f"warning: execution {ID}: its journal is cut short (entry 2 is missing); "
        "what it shows may be incomplete"
    )
    with pytest.raises(JournalTruncatedError, match=r"cannot be resumed: its journal is cut short \(entry 2"):
        read.require_whole()
    whole = read_entries(record(), entries(START, STARTED))
    assert whole.warning is None
    assert whole.require_whole() == whole.events


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (
            {"type": "Teleported", "at": T0.isoformat()},
            "has event type 'Teleported' that this version does not know",
        ),
        ({"at": T0.isoformat()}, "has event type None that this version does not know"),
        (
            {**START, "chunk_id": 7},
            "(StartRequested) has a field this version cannot read (expected <class 'str'>, got int: 7)",
        ),
    ],
)
def test_an_undecodable_entry_is_one_line_naming_it(payload: Mapping[str, Any], problem: str) -> None:
    with pytest.raises(JournalUnreadableError) as caught:
        decode_entries(ID, entries(START, payload))
    assert str(caught.value) == (
        f"execution {ID}: journal entry 2 {problem}: written by a newer DRS Desktop, or damaged"
    )


def test_a_payload_that_is_not_an_object_is_one_line() -> None:
    with pytest.raises(JournalUnreadableError, match="journal entry 1 is not a JSON object"):
        decode_entries(ID, [JournalEntry(1, "x", T0, ["not", "an", "object"])])  # type: ignore[arg-type]


def test_a_newer_versions_annotation_is_skipped_and_an_unknown_core_event_is_refused() -> None:
    """A teammate's newer DRS Desktop journals annotations (findings, sign-offs) marked "core": false:
    this version reads the rest of the journal. An unknown event without the mark could change what the
    engine decides: refused, one line. ``core: true`` on an unknown type is refused too."""
    finding = {"type": "FindingWitnessed", "at": T0.isoformat(), "text": "DNS moved late", "core": False}
    assert decode_entries(ID, entries(START, finding, STARTED)) == decode_entries(ID, entries(START, STARTED))
    for unmarked in ({**finding, "core": True}, {k: v for k, v in finding.items() if k != "core"}):
        with pytest.raises(JournalUnreadableError, match="journal entry 2 has event type 'FindingWitnessed'"):
            decode_entries(ID, entries(START, unmarked, STARTED))


def test_core_events_journal_without_the_mark_and_annotations_with_it() -> None:
    """Old journals stay byte-for-byte what they were; an annotation (issue 18) carries the mark, reads
    back as the same event, and changes nothing the engine decides."""
    assert {cls.__name__ for cls in ANNOTATION_TYPES} == {
        "TestRecorded",
        "FindingAdded",
        "FindingUpdated",
        "ReviewSignedOff",
        "RecoveryPointsRecorded",
    }
    assert CORE_KEY not in START and is_core(event_from_json(START))
    finding = FindingAdded(finding_id="f1", text="DNS moved late", severity=Severity.HIGH, at=T0, by="ana")
    journaled = event_to_json(finding)
    assert journaled[CORE_KEY] is False and not is_core(finding)
    assert event_from_json(journaled) == finding
    assert event_from_json({**START, CORE_KEY: True}) == event_from_json(START), "the mark is not a field"
