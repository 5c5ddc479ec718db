"""``run``'s driving loop, shared by ``run`` (and ``--resume``), ``control``, ``native run`` and ``sync
takeover``: drive an execution to its end or to a person, print its progress on stderr, and end with
``run``'s exit code and ``--json`` object (``cli_exit``).

Split from ``cli_run`` (which prepares a new run and its preflight) because every command that drives an
execution comes here, and only ``run`` and ``native run`` create one. The caller holds the execution's
driver lock; ``_leased`` adds the team sync lease for as long as this process drives it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from drs_desktop import cli_target
from drs_desktop.cli_exit import EXIT_FAILED, EXIT_OK, EXIT_WAITING
from drs_desktop.cli_native_text import native_lines
from drs_desktop.cli_show import print_problems, reason_changes
from drs_desktop.domain.safe_text import terminal_safe

if TYPE_CHECKING:
    from drs_desktop.domain.engine.commands import Command
    from drs_desktop.domain.engine.events import Event
    from drs_desktop.domain.engine.state import ExecutionState
    from drs_desktop.services.lease_keeper import LeaseKeeper
    from drs_desktop.services.run_alerts import RunAlerts
    from drs_desktop.services.runner import ExecutionRunner, RunResult
    from drs_desktop.storage.db import Database


def drive_resumed(
    db: Database,
    runner: ExecutionRunner,
    args: argparse.Namespace,
    out: TextIO,
    lease: LeaseKeeper | None,
) -> int:
    """Drive an execution picked up from its journal (``run --resume``, ``sync takeover``) to its end or
    to a person, with ``run``'s exit codes; the caller holds its driver lock (and lease)."""
    print(f"resuming execution {runner.execution_id} of {runner.record.plan_name!r}", file=sys.stderr)
    _credentials_renewed(runner)
    return _drive(db, runner, args, out, lease)


@contextmanager
def _leased(db: Database, execution_id: str) -> Iterator[LeaseKeeper | None]:
    """With team sync on, the execution's lease for the time this process drives it (docs/sync.md,
    "Leases"); ``LeaseHeld`` (exit 1, naming the desktop) when another desktop drives it."""
    from drs_desktop.services.execution_lease import give_back, leases_for

    leases = leases_for(db)
    keeper = leases.take(execution_id) if leases is not None else None
    try:
        yield keeper
    finally:
        give_back(keeper)


def _drive(
    db: Database,
    runner: ExecutionRunner,
    args: argparse.Namespace,
    out: TextIO,
    lease: LeaseKeeper | None = None,
) -> int:
    """Run to the end (or to a gate), printing progress; approve gates with --auto-approve. With a team
    sync ``lease``, no step starts while it cannot be confirmed, and a takeover ends the run here (exit 1)."""
    from drs_desktop.domain.engine.controls import ControlAction, ControlRequest, control_event
    from drs_desktop.services.execution_lease import wait_for_lease

    runner.add_listener(_print_progress)
    alerts = _run_alerts(db, runner, args)
    paused_here = _PausedHere()
    runner.add_listener(paused_here)
    approver = _approver(runner)
    sleeper = cli_target._runner_sleeper(runner)
    stuck = _stuck_for_a_person(runner, paused_here)
    if lease is not None:  # checked again right before each launch or termination, within a step
        runner.set_act_guard(lease.may_drive)
        if lease.pushes_before_release:  # teammates follow the run live, as a GUI's sync round lets them
            runner.add_listener(_LivePush(lease.push_before_release))
    try:
        while True:
            result = runner.run(
                sleep=sleeper,
                return_on_approval=True,
                should_stop=lambda: stuck() or (lease is not None and not lease.may_drive()),
            )
            if lease is not None and not lease.may_drive():  # a finished drill's cleanup waits too
                say = lambda text: print(text, file=sys.stderr)  # noqa: E731
                if wait_for_lease(lease, say, lambda: False, time.sleep):
                    continue
                return EXIT_FAILED
            if result.outcome is not None or not result.approvals:
                break
            if not args.auto_approve:
                for gate in result.approvals:
                    message = terminal_safe(gate.message)
                    print(f"waiting for approval: wave {gate.wave_name!r}: {message}", file=sys.stderr)
                break
            for gate in result.approvals:
                request = ControlRequest(
                    ControlAction.APPROVE, wave_index=gate.wave_index, comment="--auto-approve"
                )
                runner.submit(control_event(request, runner.state, at=cli_target._now(), by=approver))
    except KeyboardInterrupt:
        print(f"interrupted; resume with: drs-desktop run --resume {runner.execution_id}", file=sys.stderr)
        raise
    finally:
        alerts.close()  # what the run said goes out before the command returns (bounded wait)
    print_problems(db, runner)
    return _report_result(runner, result, args, out)


def _run_alerts(db: Database, runner: ExecutionRunner, args: argparse.Namespace) -> RunAlerts:
    """The run-event alerts of the plan's routes (``services.run_alerts``), published to SNS with the
    credentials the run uses."""
    from drs_desktop.services.run_alerts import attach_run_alerts

    return attach_run_alerts(
        db, runner, target=lambda: cli_target.record_gateway(db, args, runner.record).target
    )


#: Real seconds between two pushes of a run that ``run`` drives with team sync on (the GUI's sync round
#: pushes a live run about as often: after each save, debounced, and every minute).
LIVE_PUSH_SECONDS = 30.0


class _LivePush:
    """A listener: with team sync on, push the run the command line drives at most every
    ``LIVE_PUSH_SECONDS``, on the runner's thread, so that other desktops see it live and the table's
    head stays close to its journal (best effort: ``push`` never raises, a failure is logged)."""

    def __init__(self, push: Callable[[], object], clock: Callable[[], float] = time.monotonic) -> None:
        from drs_desktop.domain.engine.events import StartRequested, TerminateRequested

        self._intents = (StartRequested, TerminateRequested)
        self._push = push
        self._clock = clock
        self._last: float | None = None

    def __call__(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        if isinstance(event, self._intents):
            # An intent: its DRS call goes out right after, checked against the lease just before; a
            # push here (up to its time bound when the table is slow) would send the call that much later.
            return
        now = self._clock()
        if self._last is None or now - self._last >= LIVE_PUSH_SECONDS:
            self._last = now
            self._push()


class _PausedHere:
    """A listener: whether this run journaled a pause (one sent from another terminal through the
    control inbox) that no resume has lifted yet."""

    def __init__(self) -> None:
        self.paused = False

    def __call__(self, before: ExecutionState, after: ExecutionState, event: Event) -> None:
        self.paused = after.paused and (self.paused or not before.paused)


def _stuck_for_a_person(runner: ExecutionRunner, paused_here: _PausedHere) -> Callable[[], bool]:
    """``run`` waits for an operator control when the run is held (a critical server failed) or paused
    and the engine has nothing left to do, not even a poll to wake for. Nobody may be there to send it,
    so it stops there (exit 3) instead of sleeping forever; except for a pause another terminal sent
    while this run drove: that operator resumes it the same way, and the run takes the resume from its
    inbox (a sleeping runner looks every second)."""
    from drs_desktop.domain.engine.decide import decide
    from drs_desktop.domain.engine.state import ExecutionStatus

    def stuck() -> bool:
        if runner.status not in (ExecutionStatus.HELD, ExecutionStatus.PAUSED):
            return False
        if runner.status is ExecutionStatus.PAUSED and paused_here.paused:
            return False
        commands = decide(runner.state, runner.now())
        if runner.state.native is not None:  # a run in DRS (``native run``)
            return _native_waits_for_a_person(runner.state, commands)
        return not commands

    return stuck


def _native_waits_for_a_person(state: ExecutionState, commands: Sequence[Command]) -> bool:
    """Whether ``run``'s driving loop (``cli_drive._drive``) stops here, exit 3. A held run in DRS: DRS
    keeps its FAILED execution until someone retries, skips or cancels, and the engine keeps reading it (a
    retry from the console shows up), so the engine always has a next read. Once no control is on its way
    (a control DRS accepted stays pending until a reading shows what it did), only those reads are left:
    nothing this run can do alone."""
    from drs_desktop.domain.engine.commands import PollNative, WakeAt

    native = state.native
    if native is None or native.status != "FAILED" or native.pending or native.observed_at is None:
        return False  # DRS still at work (a critical failure holds the run here first), or a control
    return all(isinstance(command, PollNative | WakeAt) for command in commands)


def _credentials_renewed(runner: ExecutionRunner) -> None:
    """A resume is a new process with sessions of its own: targets held for their credentials may try
    again (each journaled with who resumed; refused again, they hold again)."""
    from drs_desktop.domain.engine.accounts import credential_holds
    from drs_desktop.domain.engine.events import CredentialsRenewed

    for hold in credential_holds(runner.state):
        runner.control(CredentialsRenewed(target=hold.target, at=runner.now(), by=_approver(runner)))
        print(f"credentials of target {hold.target or 'connected'!r}: trying again", file=sys.stderr)


def _held_waves(state: ExecutionState) -> list[dict[str, Any]]:
    """What a held run waits for: a target's credentials; each automation step waiting for a decision
    (``step``: ``HeldStep.to_json``); per failed wave, its failed critical servers or the step that
    failed it, and the choices."""
    from drs_desktop.domain.engine.accounts import credential_holds
    from drs_desktop.domain.engine.queries import failed_waves
    from drs_desktop.domain.engine.state import ServerStatus
    from drs_desktop.domain.views.held_steps import failed_steps, held_step_views

    waiting: list[dict[str, Any]] = [
        {
            "target": hold.target,
            "message": f"its credentials were refused or are expiring ({terminal_safe(hold.problem)}): "
            "renew them (aws sso login, an MFA code, new keys) and resume the run",
        }
        for hold in credential_holds(state)
    ]
    waiting.extend(
        {"wave": step.wave_name, "message": f"{step.label}: {step.reason}", "step": step.to_json()}
        for step in held_step_views(state)
    )
    for index in failed_waves(state):
        failed = [
            s.server_id for s in state.wave_servers(index) if s.critical and s.status is ServerStatus.FAILED
        ]
        if failed:
            waiting.append(
                {
                    "wave": state.waves[index].name,
                    "message": f"critical servers failed: {', '.join(failed)}; "
                    "retry them, skip the wave or cancel the execution",
                }
            )
        waiting.extend(
            {"wave": step.wave_name, "message": f"{step.label}: {step.reason}", "step": step.to_json()}
            for step in failed_steps(state, index)
        )
    return waiting


def _say_held(execution_id: str, waiting_for: list[dict[str, Any]]) -> None:
    """Each thing a held run waits for, then the exact commands that decide it: per held step
    ``control ID retry|done|fail --wave N``; for failed waves ``retry|skip|cancel`` (a wave a step
    failed has no servers to retry: skip or cancel)."""
    for item in waiting_for:
        where = f"wave {item['wave']!r}" if "wave" in item else f"target {item['target'] or 'connected'!r}"
        print(terminal_safe(f"held: {where}: {item['message']}"), file=sys.stderr)
    steps = [item["step"] for item in waiting_for if "step" in item]
    for step in steps:
        if step["decidable"]:
            print(
                f"execution {execution_id} is held for an operator: drs-desktop control {execution_id} "
                f"retry|done|fail --wave {step['wave']}",
                file=sys.stderr,
            )
    if any("wave" in item and "step" not in item for item in waiting_for):
        print(
            f"execution {execution_id} is held for an operator: drs-desktop control "
            f"{execution_id} retry|skip|cancel [--wave N]",
            file=sys.stderr,
        )
    for step in steps:
        if not step["decidable"]:
            print(
                f"execution {execution_id} is held for an operator: drs-desktop control {execution_id} "
                f"skip --wave {step['wave']} (or cancel)",
                file=sys.stderr,
            )


def _approver(runner: ExecutionRunner) -> str:
    from drs_desktop.services.history import default_actor

    return default_actor(runner.record)


def _report_result(runner: ExecutionRunner, result: RunResult, args: argparse.Namespace, out: TextIO) -> int:
    from drs_desktop.domain.engine.events import Outcome
    from drs_desktop.domain.engine.state import ExecutionStatus

    waiting_for: list[dict[str, Any]] = [
        {"wave": gate.wave_name, "message": gate.message} for gate in result.approvals
    ]
    if result.outcome is None and result.status is ExecutionStatus.HELD:
        waiting_for = _held_waves(runner.state)
        _say_held(runner.execution_id, waiting_for)
    elif result.outcome is None and result.status is ExecutionStatus.PAUSED:
        print(
            f"execution {runner.execution_id} is paused: drs-desktop control {runner.execution_id} resume",
            file=sys.stderr,
        )
    fix = _templates_left(runner) if result.outcome is not None else None
    if args.json:
        payload = {
            "execution_id": runner.execution_id,
            "outcome": result.outcome.value if result.outcome else None,
            "status": result.status.value,
            "waiting_for": waiting_for,
            "restore_command": fix,
        }
        json.dump(payload, out)
        out.write("\n")
    if result.outcome is None:
        print(
            f"execution {runner.execution_id} waits; carry on with: drs-desktop run --resume "
            f"{runner.execution_id}",
            file=sys.stderr,
        )
        return EXIT_WAITING
    return EXIT_OK if result.outcome is Outcome.SUCCEEDED else EXIT_FAILED


def _templates_left(runner: ExecutionRunner) -> str | None:
    """An ended drill that may have left launch templates pointed at the drill network: say which, and
    the command that sets them back (None when none may be)."""
    from drs_desktop.domain.views.drill_net_evidence import maybe_left_pointed, restore_command

    left = maybe_left_pointed(runner.state)
    if not left:
        return None
    command = restore_command(runner.record.plan_name)
    print(
        f"{len(left)} launch template(s) may be left pointed at the drill network (a recovery would launch "
        f"there): {', '.join(left)}; set them back with: {command}",
        file=sys.stderr,
    )
    return command


def _print_progress(before: ExecutionState, after: ExecutionState, event: Event) -> None:
    from drs_desktop.domain.views.change_text import describe_change

    lines = [*describe_change(before, after, event), *reason_changes(before, after)]
    for line in [*lines, *native_lines(before, after, event)]:
        print(terminal_safe(line), file=sys.stderr, flush=True)
