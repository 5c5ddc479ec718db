"""Kill points of the ``kill -9`` tests, as journal positions: where to kill, and the wait until it is there.

A kill drawn as a wall-clock delay lands wherever a loaded machine happens to have got to (or nowhere:
under load a process may not reach its journal in the time drawn). A kill drawn as a journal position
waits until the process is there, however long that takes, so the phases the tests exist for (inside
StartRecovery with the intent journaled, between calls, a resume's start-up) are reached every time.

The journal is read as an operator's second process would read it: a read-only SQLite connection
through ``drs_desktop.storage`` (``list_executions``, ``load_journal``), polled with a short pause. A
StartRecovery is caught in flight by the simulator's ``hold`` fault: the call waits in DRS's hands,
and the kill comes while it does (the simulator carries it out after the client is gone).
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from drs_desktop.config import AppPaths
from drs_desktop.services.driver_lock import DriverLock, lock_path
from drs_desktop.simulator.embedded import EmbeddedSimulator
from drs_desktop.storage import executions as journal
from drs_desktop.storage.db import Database, ReadOnlyDatabase

#: Real seconds between two looks at the journal.
POLL_PAUSE = 0.01
#: Real seconds a process may take to reach its kill point before the test fails (not a window: the
#: kill does not depend on it; it only turns a process that never gets there into a clear failure).
KILL_POINT_TIMEOUT = 90.0
#: Virtual seconds the simulator holds the StartRecovery a kill is aimed at: long enough to kill inside
#: it (0.4 s real at 300x), well under the engine's ``start_settle`` (read timeout + 5 min), so DRS has
#: carried the call out before a resume may conclude it never landed, as real DRS would.
HOLD_SECONDS = 120.0
#: A kill "after N more journal entries" draws N from this range (a wave journals ~40 entries at 300x).
ENTRIES = (1, 12)

INSIDE_START = "inside StartRecovery"
AFTER_ENTRIES = "after more journal entries"
START_UP = "at start-up"


@dataclass(frozen=True)
class KillPoint:
    """Where a kill lands: ``kind`` (one of the constants above) and, for AFTER_ENTRIES, how many."""

    kind: str
    entries: int = 0

    def describe(self) -> str:
        return f"{self.kind} ({self.entries})" if self.kind == AFTER_ENTRIES else self.kind


def draw_kill_point(rng: random.Random, *, starts_left: bool) -> KillPoint:
    """A seeded draw: inside the next StartRecovery (when a wave is still to start), at start-up (the
    driver lock taken or the execution just journaled), or after 1 to 12 more journal entries."""
    inside, start_up, entries = rng.random(), rng.random(), rng.randint(*ENTRIES)  # all drawn every time
    if starts_left and inside < 0.45:
        return KillPoint(INSIDE_START)
    if start_up < 0.3:
        return KillPoint(START_UP)
    return KillPoint(AFTER_ENTRIES, entries)


class JournalWatch:
    """The home's database seen read-only, as a second process sees it while the driver writes."""

    def __init__(self, home: Path) -> None:
        self._path = AppPaths.resolve(home).database
        with Database.open(self._path) as db:  # exists already (plans saved), so this only checks it
            self._reader: ReadOnlyDatabase = db.open_reader()

    def close(self) -> None:
        self._reader.close()

    def execution_id(self) -> str | None:
        """The one execution of the home, once its run journaled it."""
        listed = journal.list_executions(self._reader)
        assert len(listed) <= 1, f"a kill left more than one execution behind: {listed}"
        return listed[0].execution_id if listed else None

    def entries(self, execution_id: str | None) -> int:
        """How many entries the execution's journal holds (0 before it exists)."""
        return 0 if execution_id is None else len(journal.load_journal(self._reader, execution_id))

    def start_intents(self, execution_id: str | None) -> int:
        """How many StartRequested the execution's journal holds (each is followed by one call)."""
        if execution_id is None:
            return 0
        return sum(e.type == "StartRequested" for e in journal.load_journal(self._reader, execution_id))

    def drives(self, execution_id: str, pid: int) -> bool:
        """Whether process ``pid`` holds the execution's driver lock (its note names it)."""
        holder = DriverLock(lock_path(self._path, execution_id)).holder()
        return holder is not None and holder.pid == pid


def wait_until(process: subprocess.Popen[bytes], reached: Callable[[], bool], what: str) -> bool:
    """Poll until ``reached()`` (True) or the process ends by itself (False); fail the test clearly if it
    gets nowhere within KILL_POINT_TIMEOUT real seconds."""
    deadline = time.monotonic() + KILL_POINT_TIMEOUT
    while True:
        if reached():
            return True
        if process.poll() is not None:
            return False
        if time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=30)
            pytest.fail(f"the process did not get {what} within {KILL_POINT_TIMEOUT:.0f} s")
        time.sleep(POLL_PAUSE)


@dataclass
class Attempt:
    """One process's run up to its kill: what the simulator and the journal held when it started."""

    sim: EmbeddedSimulator
    watch: JournalWatch
    execution_id: str | None
    entries_before: int
    held_before: int = 0
    carried_before: int = 0
    unsent_before: int = 0

    def calls_received(self) -> int:
        return self.sim.backend.request_counts().get("StartRecovery", 0)

    def calls_in_hand(self, execution_id: str | None) -> bool:
        """Whether DRS has received every StartRecovery whose intent is journaled. A kill in between
        (intent journaled, call never sent) is a fair case, but its resume must wait out ``start_settle``
        before starting the chunk again, and at 300x the runner's real-time estimate of DRS's clock
        stretches that wait to its 30 s sleep: hours of DRS time. So a kill waits until the call is sent."""
        received = self.calls_received()  # first: every intent counted below it covers is in DRS's hands
        return self.watch.start_intents(execution_id) <= received + self.unsent_before


@contextmanager
def attempt(
    sim: EmbeddedSimulator, watch: JournalWatch, point: KillPoint, execution_id: str | None, entries: int
) -> Iterator[Attempt]:
    """Set up one process's kill: for INSIDE_START hold the next StartRecovery (its rule put back after,
    so a variant's own latency or holds go on). Start the process inside the block."""
    rules = sim.faults.transport_rules()
    state = Attempt(sim, watch, execution_id, entries)
    state.held_before = sim.faults.injected().get("hold", 0)
    state.carried_before = sim.holds.total_carried_out
    state.unsent_before = max(0, watch.start_intents(execution_id) - state.calls_received())
    if point.kind == INSIDE_START:  # the held call alone (a variant's lost answers are put back after)
        sim.faults.set_transport("StartRecovery", None)
        sim.faults.hold("StartRecovery", seconds=HOLD_SECONDS, count=1)
    try:
        yield state
    finally:
        sim.faults.set_transport("StartRecovery", rules.get("StartRecovery"))


def reach_kill_point(process: subprocess.Popen[bytes], point: KillPoint, at: Attempt) -> bool:
    """Wait until ``process`` (started inside ``attempt``) is at ``point``; False if it ended by itself
    first. Except inside a StartRecovery, a kill waits until DRS has every call whose intent is
    journaled (``Attempt.calls_in_hand``)."""
    sim, watch, execution_id = at.sim, at.watch, at.execution_id
    if point.kind == INSIDE_START:
        return wait_until(
            process,
            lambda: sim.faults.injected().get("hold", 0) > at.held_before and sim.holds.holding > 0,
            "inside a StartRecovery",
        )
    if point.kind == START_UP:
        if execution_id is None:

            def journaled() -> bool:
                current = watch.execution_id()
                return current is not None and at.calls_in_hand(current)

            return wait_until(process, journaled, "to journal its execution")
        return wait_until(
            process,
            lambda: watch.drives(execution_id, process.pid) and at.calls_in_hand(execution_id),
            "the driver lock",
        )

    def far_enough() -> bool:
        current = execution_id or watch.execution_id()
        return watch.entries(current) >= at.entries_before + point.entries and at.calls_in_hand(current)

    return wait_until(process, far_enough, f"{point.entries} journal entries further")


def after_kill(point: KillPoint, at: Attempt) -> None:
    """After a kill inside a held StartRecovery: wait until DRS has carried the call out, as real DRS
    does within the client's read timeout, so the resume's reconciliation finds the job."""
    if point.kind == INSIDE_START:
        assert at.sim.holds.wait_carried_out(at.carried_before + 1, timeout=KILL_POINT_TIMEOUT), (
            "DRS did not carry out the StartRecovery held for the kill"
        )
