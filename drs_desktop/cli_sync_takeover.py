"""``sync takeover EXECUTION_ID [--yes] [--json]``: take over a run another desktop drove and went silent
(docs/sync.md, "Taking a run over"; issue 14 item 5).

It reads the execution's lease every ``HEARTBEAT_INTERVAL`` seconds and prints a line whenever what it
reads changes (holder, heartbeat, seconds unchanged on this machine's monotonic clock, seconds left),
until the lease has been read unchanged for ``LEASE_EXPIRY`` or is free. Ctrl-C gives up (exit 130):
nothing was changed. Then it asks the operator to type the first 8 characters of the execution ID
(``--yes`` skips that), takes the lease over on the pair it watched, pulls the team's table, and drives
the run to its end like ``run --resume``, with the same exit codes. Refused (exit 1, one line): a finished
run, one this desktop drives, a desktop that beat again or took it first.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from drs_desktop.cli_drive import drive_resumed
from drs_desktop.cli_exit import EXIT_FAILED, UsageError
from drs_desktop.cli_target import add_target_options, record_gateway
from drs_desktop.config import AppPaths
from drs_desktop.domain.lease import HEARTBEAT_INTERVAL, Lease, LeaseWatch
from drs_desktop.domain.safe_text import terminal_safe
from drs_desktop.domain.views.lease_view import LeaseReading, feed, may_take_over

if TYPE_CHECKING:
    from drs_desktop.services.execution_lease import ExecutionLeases
    from drs_desktop.services.execution_takeover import LeaseLook
    from drs_desktop.storage.db import Database

#: The observer's clock and its wait between reads: tests swap both to step time instead of sleeping.
_monotonic: Callable[[], float] = time.monotonic
_wait: Callable[[float], None] = time.sleep
#: How many characters of the execution ID the operator types to confirm.
CONFIRM_CHARS = 8


def add_takeover_command(actions: argparse._SubParsersAction, add_home: object) -> None:
    takeover = actions.add_parser(
        "takeover", help="watch another desktop's run until its lease expires, then drive it from here"
    )
    if callable(add_home):
        add_home(takeover)
    takeover.add_argument("execution_id")
    takeover.add_argument(
        "--yes", action="store_true", help="do not ask to type the execution ID before taking it over"
    )
    takeover.add_argument(
        "--json", action="store_true", help="print the execution ID and outcome as JSON on stdout"
    )
    add_target_options(takeover)
    takeover.add_argument("--poll-interval", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    takeover.set_defaults(auto_approve=False)


def takeover_command(args: argparse.Namespace, paths: AppPaths, out: TextIO) -> int:
    from drs_desktop.services.execution_lease import give_back
    from drs_desktop.services.execution_takeover import LeaseLook, take_over_execution
    from drs_desktop.storage import executions as journal
    from drs_desktop.storage.db import Database

    with Database.open(paths.database) as db:
        leases = _leases(db)
        record = journal.get_execution(db, args.execution_id)
        look = LeaseLook(db, lambda: leases, monotonic=_monotonic)
        try:
            seen, expired = watch_until_free(look, record.execution_id, _say)
        finally:
            look.close()
        if not args.yes and not _confirmed(record.execution_id):
            print("not confirmed: nothing was changed", file=sys.stderr)
            return EXIT_FAILED
        gateway = record_gateway(db, args, record)
        taken = take_over_execution(
            db,
            gateway,
            record.execution_id,
            seen,
            expired=expired,
            leases=leases,
            operator=f"{leases.desktop_id} (drs-desktop sync takeover)",
        )
        print(
            f"took execution {record.execution_id} over from desktop {taken.previous or 'unknown'}: "
            "chunks the journal does not show started are checked in DRS's records first",
            file=sys.stderr,
        )
        try:
            return drive_resumed(db, taken.runner, args, out, taken.lease)
        finally:  # the lease first, then the lock (as a session closes)
            give_back(taken.lease)
            taken.lock.release()


def watch_until_free(
    look: LeaseLook, execution_id: str, say: Callable[[str], None]
) -> tuple[Lease | None, bool]:
    """Read the lease every ``HEARTBEAT_INTERVAL`` s until it is free or expired in this observer's
    watch; ``(lease seen, expired)``. ``TakeoverRefused`` for a finished run or one this desktop holds."""
    from drs_desktop.services.execution_takeover import TakeoverRefused

    watch = LeaseWatch()
    shown = ""
    while True:
        reading = look.read(execution_id)
        if reading.finished:
            raise TakeoverRefused(f"execution {execution_id} has ended: nothing to take over")
        feed(watch, reading)
        line = watch_line(watch, reading)
        if line != shown:
            say(line)
            shown = line
        if not reading.error:
            if reading.lease is not None and reading.lease.holder == reading.here:
                raise TakeoverRefused(f"execution {execution_id} is driven by this desktop already")
            if reading.writer is None and reading.lease is None:
                raise TakeoverRefused(
                    f"execution {execution_id} is this desktop's own: resume it with run --resume"
                )
            if may_take_over(watch, reading):
                return reading.lease, watch.expired
        _wait(HEARTBEAT_INTERVAL)


def watch_line(watch: LeaseWatch, reading: LeaseReading) -> str:
    """One line of the watch: holder, heartbeat, seconds unchanged, seconds left (or why not read)."""
    if reading.error:
        return f"cannot read the lease: {reading.error} (no expiry is counted while it cannot be read)"
    if reading.lease is None:
        if reading.cleanly_released:
            return "lease free: given back after a clean stop, its whole journal in the team's table"
        left = "expired" if watch.expired else f"{watch.remaining:.0f} s left"
        unchanged = f"unchanged {watch.unchanged_for:.0f} s"
        return f"lease free but not given back after a clean stop · {unchanged} · {left}"
    lease = reading.lease
    left = "expired" if watch.expired else f"{watch.remaining:.0f} s left"
    unchanged = f"unchanged {watch.unchanged_for:.0f} s"
    return f"holder {lease.holder} · heartbeat {lease.heartbeat} · {unchanged} · {left}"


def _leases(db: Database) -> ExecutionLeases:
    """This desktop's leases in the configured sync table (sync now --table sets it)."""
    from drs_desktop.domain.sync_errors import SyncTargetError
    from drs_desktop.services.execution_lease import ExecutionLeases
    from drs_desktop.services.team_sync import load_sync_settings, table_target

    settings = load_sync_settings(db)
    if not settings.table.strip():
        raise UsageError("no sync table yet: `drs-desktop sync now --table NAME` sets it")
    try:
        target = table_target(settings)
    except SyncTargetError as exc:
        raise UsageError(str(exc)) from None
    print(f"sync {terminal_safe(target.describe())}", file=sys.stderr)
    # With the database: a clean stop pushes the run before it gives the lease back (services.close_push).
    return ExecutionLeases(target, settings.desktop_id, db=db)


def _say(line: str) -> None:
    print(terminal_safe(line), file=sys.stderr, flush=True)


def _confirmed(execution_id: str) -> bool:
    """The operator typed the first characters of the execution ID (stdin)."""
    wanted = execution_id[:CONFIRM_CHARS]
    print(
        "This desktop will drive the run from now on. Every chunk its journal does not show started is "
        "first checked in DRS's records (new launches may wait for DRS's listing to settle, minutes). The "
        "other desktop stops driving when it reconnects; its unsynced events are kept aside there.",
        file=sys.stderr,
    )
    print(f"Type {wanted} to take execution {execution_id} over: ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline()
    return answer.strip() == wanted
