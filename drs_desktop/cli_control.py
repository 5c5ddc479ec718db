"""``drs-desktop control ID ACTION``: an operator's decision on an execution, delivered to its driver.

Only an execution's driver appends to its journal, and the driver is whoever holds the execution's
driver lock (``services.driver_lock``). So:

- when a live driver holds the lock (a ``run`` in another terminal, the GUI), the control goes into the
  control inbox (``storage.control_inbox``); the driver takes it before its next decision, checks it and
  journals or refuses it itself. ``control`` waits (up to ``CONTROL_WAIT_SECONDS``) and prints which,
  with the reason of a refusal; with ``--no-wait`` it prints "queued" and returns at once;
- when nobody drives it, ``control`` takes the lock itself (so no driver starts in between), journals
  the control directly and, unless ``--no-wait``, drives the execution on like ``run --resume``.

A held automation step (``engine.automation``) is decided with ``done`` (count it as done: its wave goes
on), ``fail`` (fail it and its wave) or ``retry`` on its wave (one more attempt); the messages name the
step ("done (wave 2 'web', after step 1: ssm 'smoke') journaled ...").

Exit codes: 0 journaled (or queued, or the driven run succeeded), 1 refused (or the driven run failed),
2 usage, 3 the driven run waits for a person.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from typing import TYPE_CHECKING, TextIO

from drs_desktop.cli_drive import _drive
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, UsageError
from drs_desktop.cli_target import _now, _open_database, _resume_runner
from drs_desktop.config import AppPaths
from drs_desktop.domain.durations import format_duration
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.engine.events import Event
    from drs_desktop.domain.engine.record import ExecutionRecord
    from drs_desktop.domain.engine.state import ExecutionState
    from drs_desktop.services.driver_lock import DriverLock
    from drs_desktop.storage.control_inbox import InboxControl
    from drs_desktop.storage.db import Database

#: How long ``control`` waits for the live driver to decide (it looks at its inbox every second).
CONTROL_WAIT_SECONDS = 30.0
#: How often ``control`` looks at its inbox row while it waits.
CONTROL_POLL_SECONDS = 0.2


def control_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.domain.engine.reducer import control_error
    from drs_desktop.services import history
    from drs_desktop.services.driver_lock import DriverLock, lock_path
    from drs_desktop.services.journal_replay import replayed_state
    from drs_desktop.services.runner import ControlRefused
    from drs_desktop.storage import executions as journal

    with _open_database(paths) as db:
        record = journal.get_execution(db, args.execution_id)
        # Decide on the replayed journal first: a refused or mistyped control writes nothing.
        state = replayed_state(db, record)
        by = args.by or history.default_actor(record)
        event = _control_event(state, args, by)
        problem = control_error(state, event)
        what = _control_words(state, event, args.action)
        if problem is not None:
            raise ControlRefused(f"{what}: {problem}" if what != args.action else problem)
        lock = DriverLock(lock_path(db.path, record.execution_id), execution_id=record.execution_id)
        if lock.acquire():
            with lock:
                return _journal_directly(db, record, event, args, out, what)
        return _deliver(db, record, event, lock, by, args, out, what)


def _journal_directly(
    db: Database, record: ExecutionRecord, event: Event, args: argparse.Namespace, out: TextIO, what: str
) -> int:
    """Nobody drives the execution and this process holds its lock: journal, then drive on."""
    runner = _resume_runner(db, args, record)
    runner.control(event)
    print(terminal_safe(f"{what} journaled for execution {runner.execution_id}"), file=sys.stderr)
    if args.no_wait:
        return EXIT_OK
    args.auto_approve = False
    return _drive(db, runner, args, out)


def _deliver(
    db: Database,
    record: ExecutionRecord,
    event: Event,
    lock: DriverLock,
    by: str,
    args: argparse.Namespace,
    out: TextIO,
    what: str,
) -> int:
    """A live driver holds the lock: queue the control in its inbox and (unless --no-wait) wait for it."""
    from drs_desktop.domain.engine.events import event_to_json
    from drs_desktop.services.driver_lock import describe_driver
    from drs_desktop.storage import control_inbox as inbox

    driver = describe_driver(record.execution_id, lock.holder())
    sender = f"{by} (pid {os.getpid()} on {socket.gethostname()})"
    row_id = inbox.submit(db, record.execution_id, event_to_json(event), submitted_by=sender)
    row = _take_over_if_undriven(db, record, lock, args, row_id)
    if args.no_wait:
        if row.state == inbox.QUEUED:
            print(
                terminal_safe(f"{what} queued: {driver}; it takes it before its next step"), file=sys.stderr
            )
        return _report(row, args, out, what)
    deadline = time.monotonic() + CONTROL_WAIT_SECONDS
    while row.state == inbox.QUEUED and time.monotonic() < deadline:
        time.sleep(CONTROL_POLL_SECONDS)
        row = _take_over_if_undriven(db, record, lock, args, row_id)
    if row.state == inbox.QUEUED:
        print(
            terminal_safe(
                f"{what} queued: {driver}; it has not taken the control within "
                f"{format_duration(CONTROL_WAIT_SECONDS)} and will before its next step"
            ),
            file=sys.stderr,
        )
    return _report(row, args, out, what)


def _take_over_if_undriven(
    db: Database, record: ExecutionRecord, lock: DriverLock, args: argparse.Namespace, row_id: int
) -> InboxControl:
    """The row as it stands; if the driver stopped before it took the control (its lock is free now),
    decide the inbox here, under the lock, so the control does not wait for a driver that may never come."""
    from drs_desktop.storage import control_inbox as inbox

    row = inbox.get_control(db, row_id)
    if row.state != inbox.QUEUED or not lock.acquire():
        return row
    with lock:
        runner = _resume_runner(db, args, record)
        runner.take_inbox()
    print(
        f"no process drives execution {record.execution_id} now: drs-desktop run --resume "
        f"{record.execution_id}",
        file=sys.stderr,
    )
    return inbox.get_control(db, row_id)


def _report(row: InboxControl, args: argparse.Namespace, out: TextIO, what: str) -> int:
    """Say what became of the control: journaled (with its journal entry), refused (why), or queued."""
    from drs_desktop.storage import control_inbox as inbox

    if row.state == inbox.JOURNALED:
        print(terminal_safe(f"{what} journaled by the driver (journal entry {row.seq})"), file=sys.stderr)
    elif row.state == inbox.REFUSED:
        print(terminal_safe(f"{what} refused by the driver: {row.reason}"), file=sys.stderr)
    if args.json:
        payload = {
            "execution_id": row.execution_id,
            "control": args.action,
            "state": row.state,
            "reason": row.reason,
            "seq": row.seq,
        }
        json.dump(payload, out)
        out.write("\n")
    return EXIT_FAILED if row.state == inbox.REFUSED else EXIT_OK


def _control_words(state: ExecutionState, event: Event, action: str) -> str:
    """How the command's messages name the control: a decision on a held automation step names the step
    ("retry of wave 2 'web' after step 1: ssm 'smoke'"), any other control its action."""
    from drs_desktop.domain.engine.automation_state import step_key
    from drs_desktop.domain.engine.events import StepDecided
    from drs_desktop.domain.views.held_steps import step_label

    if not isinstance(event, StepDecided):
        return action
    wave = state.waves[event.wave_index]
    run = state.automation.get(step_key(event.wave_index, event.phase, event.step_index))
    kind, name = (run.kind, run.name) if run is not None else ("step", "")
    label = step_label(event.phase, event.step_index, kind, name)
    return f"{event.action} (wave {wave.index + 1} {wave.name!r}, {label})"


def _control_event(state: ExecutionState, args: argparse.Namespace, by: str) -> Event:
    """The event for the command line's control, built by ``engine.controls.control_event`` (as the
    GUI's are). A wave that cannot be told is a usage error (exit 2); a control that names a wave
    that does not wait for it is refused (exit 1)."""
    from drs_desktop.domain.engine.controls import (
        WAVE_ACTIONS,
        ControlAction,
        ControlRequest,
        WaveChoiceError,
        choose_wave,
        control_event,
    )
    from drs_desktop.services.runner import ControlRefused

    # ``done`` and ``fail`` decide a held automation step; the other words are the actions' own names.
    steps = {"done": ControlAction.STEP_DONE, "fail": ControlAction.STEP_FAIL}
    action = steps.get(args.action) or ControlAction(args.action.upper())
    wave_index = None
    if action in WAVE_ACTIONS:
        try:
            wave_index = choose_wave(state, action, args.wave)
        except WaveChoiceError as exc:
            raise UsageError(f"{exc}: choose one with --wave" if exc.choices else str(exc)) from None
    if action is ControlAction.STEP_DONE and not args.comment.strip():
        # As in the GUI: a step that failed or whose outcome is lost counts as done only with the
        # operator's reason, kept in the audit and the evidence.
        raise UsageError("done needs --comment: why the step counts as done (kept in the evidence)")
    request = ControlRequest(
        action,
        wave_index=wave_index,
        terminate_drill_instances=args.terminate_drill_instances,
        comment=args.comment,
    )
    try:
        return control_event(request, state, at=_now(), by=by)
    except ValueError as exc:
        raise ControlRefused(str(exc)) from None
