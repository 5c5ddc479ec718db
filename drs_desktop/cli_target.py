"""Where an engine command's DRS is, and the clocks it runs on: shared by ``run``, ``control``,
``cleanup``, ``native``, ``servers``, ``launch-settings`` and ``sync takeover``.

The DRS to talk to comes from the command line (``add_target_options``), else from the target an
execution recorded, else from settings. Time comes from DRS's answers (``aws.drs_clock``), or from a
DRS Desktop simulator's virtual clock when the endpoint is one. The module-level hooks here (``_now``,
``_sleep``, ``_runner_sleep``, ``_drs_clock``, ``_simulator_clock``) are the one place tests swap to run
the CLI in the simulator's virtual time; the other CLI modules read them through this module at call
time (``cli_target._now()``), so one swap reaches every command.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drs_desktop.cli_exit import UsageError
from drs_desktop.config import AppPaths

if TYPE_CHECKING:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.drs_clock import DrsClock
    from drs_desktop.aws.simulator_clock import SimulatorClock
    from drs_desktop.domain.engine.record import ExecutionRecord
    from drs_desktop.services.runner import ExecutionRunner
    from drs_desktop.storage.db import Database


def add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", metavar="URL", help="DRS endpoint, e.g. a simulator's URL")
    parser.add_argument(
        "--profile", help="AWS profile (default: the setting aws.profile, or the default chain)"
    )
    parser.add_argument("--region", help="AWS Region (default: the setting aws.region)")


def _open_database(paths: AppPaths) -> Database:
    from drs_desktop.storage.db import Database

    return Database.open(paths.database)


def _gateway(db: Database, args: argparse.Namespace, saved: dict[str, Any] | None = None) -> DrsGateway:
    """The DRS to talk to: the command line first, then what the execution recorded, then settings."""
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.session import AwsTarget, EndpointUrlError, check_endpoint_url
    from drs_desktop.storage.settings import get_int, get_str

    if args.endpoint:
        try:  # before anything is stored or logged: a password or token in it would land in SQLite
            check_endpoint_url(args.endpoint)
        except EndpointUrlError as exc:
            raise UsageError(f"--endpoint: {exc}") from None
    saved = saved or {}
    endpoint = args.endpoint or saved.get("endpoint_url")
    profile = args.profile or saved.get("profile") or get_str(db, "aws.profile") or None
    region = args.region or saved.get("region") or get_str(db, "aws.region")
    if not region:
        raise UsageError("no AWS Region: pass --region or set the aws.region setting")
    followed = _simulator_clock(endpoint)
    return DrsGateway(
        AwsTarget(profile=profile, region=region, endpoint_url=endpoint),
        read_timeout=float(get_int(db, "aws.read_timeout_seconds")),
        drs_clock=followed.drs_clock() if followed is not None else _drs_clock(),
    )


def _record_gateway(db: Database, args: argparse.Namespace, record: ExecutionRecord) -> DrsGateway:
    """The DRS an existing execution talks to: the command line's, else the target it recorded."""
    return _gateway(db, args, dict(record.options.get("target") or {}))


def _resume_runner(db: Database, args: argparse.Namespace, record: ExecutionRecord) -> ExecutionRunner:
    """A runner for an existing execution, on DRS's clock (the caller holds its driver lock)."""
    from drs_desktop.services.runner import ExecutionRunner

    return ExecutionRunner.resume(db, _record_gateway(db, args, record), record.execution_id)


def record_gateway(db: Database, args: argparse.Namespace, record: ExecutionRecord) -> DrsGateway:
    """The DRS an existing execution talks to: the command line's (``add_target_options``), else the
    target it recorded."""
    return _record_gateway(db, args, record)


def _drs_clock() -> DrsClock:
    """DRS's time for this command, read from its answers (``aws.drs_clock``). Tests that run the CLI in
    the simulator's virtual time swap in one whose monotonic clock is the simulator's."""
    from drs_desktop.aws.drs_clock import DrsClock

    return DrsClock()


def _simulator_clock(endpoint: str | None) -> SimulatorClock | None:
    """The virtual clock of a DRS Desktop simulator at ``endpoint`` (``aws.simulator_clock``), so a
    plan's waits and polls run on it; None for AWS. Tests that drive the clock themselves swap this."""
    from drs_desktop.aws.simulator_clock import SimulatorClock

    return SimulatorClock.probe(endpoint)


def _runner_sleeper(runner: ExecutionRunner) -> Callable[[float], None] | None:
    """How the runner waits: a test's sleeper, else on a simulator's clock the real time a virtual wait
    lasts at its scale (the runner's own wait, which a control cuts short), else the runner's own."""
    if _runner_sleep is not None:
        return _runner_sleep
    target = runner.record.options.get("target") or {}
    followed = _simulator_clock(target.get("endpoint_url"))
    if followed is None:
        return None
    print(f"following the simulator's clock (time scale {followed.scale})", file=sys.stderr)
    return lambda seconds: runner.sleep_until_woken(followed.real_seconds(seconds))


def _target_of(gateway: DrsGateway) -> dict[str, str | None]:
    target = gateway.target
    return {"endpoint_url": target.endpoint_url, "profile": target.profile, "region": target.region}


def _now() -> datetime:
    return datetime.now(UTC)


def _sleep(seconds: float) -> None:
    """How the CLI waits out DRS throttling before an execution exists (tests swap it)."""
    time.sleep(seconds)


#: How the runner waits for its next step: None is its own wait, which a control cuts short. Tests that
#: run the CLI in the simulator's virtual time swap in a sleeper that advances the clock (with ``_now``).
_runner_sleep: Callable[[float], None] | None = None
