"""The packaged application's smoke test, ``drs-desktop --self-test``: every moving part, without AWS.

Its own module, beside the composition root it exercises (app.py builds the window; this checks it
builds), so that the root stays the order of construction and nothing else. CI runs it on the installed
command and, once there is one, on the built bundle: it proves the Qt plugins, the resources, the window
with every pane, the AWS clients, the keyring backend and a tiny drill against the embedded simulator.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from drs_desktop import APP_NAME, __version__
from drs_desktop.app import DesktopApp, _make_application
from drs_desktop.config import AppPaths
from drs_desktop.frozen import bundle_dir, is_frozen

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

logger = logging.getLogger(__name__)


#: The self-test's drill: a database first, then two web servers (hostnames of the "small" scenario).
DRILL_SERVERS = ("shop-db-01", "shop-web-01", "shop-web-02")


def self_test(paths: AppPaths) -> int:
    """Check every moving part without AWS; print one line per check; 0 when all are well.

    The window with every pane (offscreen, in demo mode: its workers talk to the embedded simulator), the
    clients of every AWS service the app calls built (never called), the simulator's model loaded, the
    keyring backend, and a three-server drill in two waves run to the end against the embedded simulator
    on its virtual clock, in a throwaway home so the operator's data is never touched. Nothing reaches AWS,
    whatever credentials the environment holds.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _make_application([sys.argv[0]])
    problems: list[str] = []
    where = f"bundle {bundle_dir()}" if is_frozen() else f"package {Path(__file__).resolve().parent}"
    lines: list[str] = [
        f"{APP_NAME} {__version__} ({where}), Qt platform {app.platformName()}, home {paths.home}"
    ]
    with tempfile.TemporaryDirectory(prefix="drs-desktop-self-test-") as scratch:
        _check(problems, lines, "window", lambda: _check_window(app, AppPaths(Path(scratch) / "gui")))
        _check(problems, lines, "aws clients", _check_clients)
        _check(problems, lines, "keyring", _check_keyring)
        _check(problems, lines, "drill", lambda: _check_drill(Path(scratch) / "drill"))
        if is_frozen() and sys.platform.startswith("linux"):
            _check(problems, lines, "child processes", _check_child_environment)
    for line in lines:
        print(f"self-test: {line}")
    for problem in problems:
        print(f"self-test: FAILED {problem}", file=sys.stderr)
    print(f"self-test: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


def _check(problems: list[str], lines: list[str], name: str, check: Callable[[], str]) -> None:
    try:
        lines.append(f"{name}: {check()}")
    except Exception as error:  # the self-test reports every failure, it never stops at the first
        logger.exception("self-test %s failed", name)
        problems.append(f"{name}: {type(error).__name__}: {error}")


def _check_window(app: QApplication, paths: AppPaths) -> str:
    # In demo mode every pane talks to the embedded simulator on loopback: built for AWS, the servers
    # pane's first refresh would call DRS with whatever credentials the environment holds.
    desktop = DesktopApp(paths, demo=True)
    try:
        window = desktop.build()
        window.show()
        app.processEvents()
        for key in window.pane_keys():
            window.show_pane(key)
            app.processEvents()
            if window.current_pane() != key:
                raise RuntimeError(f"pane {key} did not open")
        if not window.isVisible():
            raise RuntimeError("main window is not visible")
        window.close()
        app.processEvents()
        return f"{len(window.pane_keys())} panes"
    finally:
        desktop.shutdown()


def _check_clients() -> str:
    """A client for every service the app calls (``aws.services.USED``: the bundle keeps only their
    models), built and never called; then the simulator's DRS model, loaded as the simulator serves it."""
    import boto3

    from drs_desktop.aws.services import USED
    from drs_desktop.simulator.model import load_model

    session = boto3.session.Session(aws_access_key_id="self-test", aws_secret_access_key="self-test")
    counts = []
    for service in USED:
        client = session.client(service, region_name="us-east-1")
        counts.append(f"{service} ({len(client.meta.service_model.operation_names)})")
    drs = session.client("drs", region_name="us-east-1")
    operations = drs.meta.service_model.operation_names
    if "StartRecovery" not in operations or "CreateRecoveryPlan" not in operations:
        raise RuntimeError("botocore's DRS model lacks StartRecovery or the native recovery plan operations")
    model = load_model()
    if set(model.operation_names) != set(operations):
        raise RuntimeError("the simulator's DRS model differs from the client's")
    return (
        f"{', '.join(counts)} built; simulator model {len(model.operation_names)} operations; "
        f"{_trust_store()}"
    )


def _trust_store() -> str:
    """The CA certificates botocore verifies AWS's TLS with (its own file, in the bundle too), loaded
    into an SSL context: no call is made, but a missing file or a broken OpenSSL shows here."""
    import ssl

    from botocore.httpsession import get_cert_path

    path = get_cert_path(True)
    context = ssl.create_default_context(cafile=path)
    count = len(context.get_ca_certs())
    if count == 0:
        raise RuntimeError(f"no CA certificate in {path}: HTTPS to AWS could not be verified")
    return f"TLS trust store {count} CA certificates ({Path(path).name})"


def _check_child_environment() -> str:
    """What a program this one starts (the browser, a credential process) inherits: never the bundle's
    own library folder on its library path (``frozen.restore_library_path``)."""
    bundle = bundle_dir() or ""
    value = os.environ.get("LD_LIBRARY_PATH", "")
    if bundle and bundle in value.split(os.pathsep):
        raise RuntimeError(f"LD_LIBRARY_PATH still holds the bundle's libraries ({value})")
    return f"LD_LIBRARY_PATH {value!r}, as the caller set it"


#: ``DRS_SELF_TEST_KEYRING=roundtrip``: also store, read back and delete a throwaway entry (service
#: ``drs-desktop-self-test``), proving typed keys can be kept; off by default, as the self-test otherwise
#: writes nothing outside its throwaway home.
KEYRING_ROUNDTRIP_ENV = "DRS_SELF_TEST_KEYRING"
_ROUNDTRIP_SERVICE = "drs-desktop-self-test"


def _check_keyring() -> str:
    import secrets

    import keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if os.environ.get(KEYRING_ROUNDTRIP_ENV) != "roundtrip":
        return name
    value = secrets.token_urlsafe(24)
    backend.set_password(_ROUNDTRIP_SERVICE, "probe", value)
    try:
        if backend.get_password(_ROUNDTRIP_SERVICE, "probe") != value:
            raise RuntimeError("the keyring gave back another value than the one stored")
    finally:
        backend.delete_password(_ROUNDTRIP_SERVICE, "probe")
    if backend.get_password(_ROUNDTRIP_SERVICE, "probe") is not None:
        raise RuntimeError("the keyring kept an entry it was told to delete")
    return f"{name}; an entry stored, read back and deleted"


def _check_drill(home: Path) -> str:
    from drs_desktop.aws.drs import DrsGateway
    from drs_desktop.aws.session import AwsTarget
    from drs_desktop.domain.engine.events import Outcome
    from drs_desktop.domain.engine.state import Mode
    from drs_desktop.domain.plan.model import RecoveryPlan, Wave
    from drs_desktop.services.executions import RunRequest, create_execution, prepare_execution
    from drs_desktop.simulator.embedded import EmbeddedSimulator
    from drs_desktop.storage.db import Database
    from drs_desktop.storage.plans import save_plan

    with EmbeddedSimulator("small", seed=1) as sim, Database.open(home / "drs-desktop.sqlite3") as db:
        servers = [sim.backend.server_id_of(name) for name in DRILL_SERVERS]
        waves = (
            Wave(name="Database", servers=tuple(servers[:1])),
            Wave(name="Web", servers=tuple(servers[1:])),
        )
        save_plan(db, RecoveryPlan(name="Self-test", waves=waves))
        gateway = DrsGateway(AwsTarget(profile=None, region=sim.region, endpoint_url=sim.endpoint_url))
        request = RunRequest(plan_name="Self-test", mode=Mode.DRILL, poll_interval_seconds=30)
        clock: Callable[[], datetime] = sim.clock.now
        runner = create_execution(db, gateway, prepare_execution(db, gateway, request), request, clock=clock)

        def sleep(seconds: float) -> None:  # virtual time: a sleep moves the simulator's clock
            sim.clock.advance(max(seconds, 1.0))

        result = runner.run(sleep=sleep, max_steps=1000)
        if result.outcome is not Outcome.SUCCEEDED:
            raise RuntimeError(f"drill ended {result.outcome} ({result.status})")
        launched = sorted(r.source_server_id for r in sim.backend.launch_records())
        if launched != sorted(servers):
            raise RuntimeError(
                f"expected one launch of each of {len(servers)} servers, the simulator saw {launched}"
            )
        return (
            f"{len(servers)}-server drill in {len(waves)} waves SUCCEEDED against the simulator "
            f"({runner.execution_id[:8]})"
        )
